import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { brownParagraphs, udhrArticles } from '../../../../examples/quickstart/make-warc.js';
import { binaryMetrics, Classifier, evaluateClassifier, trainClassifier, type TrainExample } from '../../../../lib/data/score/classifier.js';
import { extractFeatures, FeatureBuffer } from '../../../../lib/data/score/features.js';
import { DEFAULT_CLASSIFIERS } from '../../../../lib/data/score/models.js';
import { tempDir } from '../../../helpers/cli.js';

const features = { buckets: 1 << 14, wordNgrams: 2, minn: 0, maxn: 0 };

test('features: word n-grams, each Han character a token, character n-grams of words', () => {
  const out = new FeatureBuffer();
  assert.equal(extractFeatures('the cat sat', features, out), 3 + 2);
  assert.equal(extractFeatures('人人平等', features, out), 4 + 3);
  // "<ab>": 2-grams <a ab b> and 3-grams <ab ab> → 5, plus the word itself.
  assert.equal(extractFeatures('ab', { ...features, minn: 2, maxn: 3 }, out), 5 + 1);
  // Case and spacing do not change the features.
  const a = Array.from(out.data.subarray(0, extractFeatures('The  Cat', features, out)));
  assert.deepEqual(Array.from(out.data.subarray(0, extractFeatures('the cat', features, out))), a);
});

test('trains, predicts, saves and loads: English and Chinese prose against menus', (t) => {
  const prose = [...brownParagraphs('ca01'), ...brownParagraphs('ca02')].map((text) => ({ text, label: 'prose' }));
  const zh = udhrArticles('cmn_hans').flatMap((a) => a.paragraphs).map((text) => ({ text, label: 'prose' }));
  const menus = Array.from({ length: 120 }, (_, i) => ({ text: ['Home', 'News', 'Share', 'Tweet', 'Login', '首页', '登录', '分享', 'Next »', `Page ${i}`].filter((_, j) => (i + j) % 3 !== 0).join(' | '), label: 'menu' }));
  const examples: TrainExample[] = [...prose, ...zh, ...menus];
  const model = trainClassifier(examples, { features, epochs: 10, lr: 1, seed: 1, positive: 'prose', flagAbove: 0.9 });
  assert.deepEqual(model.header.labels, ['menu', 'prose']);
  const metrics = evaluateClassifier(model, examples);
  assert.ok(metrics.f1 > 0.98, JSON.stringify(metrics));
  assert.ok(model.score('The jury said the election was conducted fairly and well.') > 0.5);
  assert.ok(model.score('人人有权享有生命、自由和人身安全。') > 0.5);
  assert.ok(model.score('Home | News | Login | 首页 | 登录') < 0.5);
  // Same seed, same weights.
  assert.deepEqual(trainClassifier(examples, { features, epochs: 2, lr: 1, seed: 3, positive: 'prose' }).weights, trainClassifier(examples, { features, epochs: 2, lr: 1, seed: 3, positive: 'prose' }).weights);

  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const path = join(dir, 'm.cls.gz');
  model.save(path);
  const loaded = Classifier.load(path);
  assert.deepEqual(loaded.header, model.header);
  assert.equal(loaded.score('A short test sentence.'), model.score('A short test sentence.'));
});

test('binary metrics', () => {
  assert.deepEqual(binaryMetrics([true, true, false, false], [true, false, true, false]), { n: 4, accuracy: 0.5, precision: 0.5, recall: 0.5, f1: 0.5 });
});

test('the shipped models load and score the obvious cases', () => {
  const offensive = Classifier.load(DEFAULT_CLASSIFIERS.offensive!);
  assert.equal(offensive.header.flagAbove, 0.5);
  assert.ok(offensive.score('The committee approved the budget on Tuesday.') < 0.5);
  assert.ok(offensive.score('今天天气很好，我们去公园散步。') < 0.5);
  const quality = Classifier.load(DEFAULT_CLASSIFIERS.quality!);
  assert.ok(quality.score(brownParagraphs('cr09').slice(0, 8).join('\n')) > 0.5);
  assert.ok(quality.score('Home\nNews\nLogin\nShare\nTweet\n© 2024 All rights reserved') < 0.5);
});
