import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brownParagraphs } from '../../examples/quickstart/make-warc.js';
import { parseJsonl, runLoom, tempDir } from '../helpers/cli.js';

const prose = brownParagraphs('ca07').slice(0, 8).join('\n');
const input = [
  `{"id":1,"text":${JSON.stringify(prose)},"n":12345678901234567891}`,
  JSON.stringify({ id: 2, text: 'Home\nNews\nSports\nLogin\n© 2024 All rights reserved' }),
  JSON.stringify({ id: 3, lang: 'zh', text: '人人生而自由，在尊严和权利上一律平等。他们赋有理性和良心，并应以兄弟关系的精神相对待。' }),
  JSON.stringify({ id: 4 }),
].join('\n') + '\n';

test('score adds every rule, the shipped models and perplexity; fields pass through', async () => {
  const result = await runLoom(['score'], { input });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /4 in · 3 out .* 1 dropped \(1 no text\)/);
  assert.match(result.stdout.split('\n')[0]!, /"n":12345678901234567891/);
  const [good, menu, zh] = parseJsonl(result.stdout) as { scores: Record<string, number>; flags?: Record<string, string> }[];
  for (const key of ['gopher_words', 'gopher_dup_10gram', 'c4_sentences', 'fineweb_list_ratio', 'quality', 'offensive', 'perplexity']) assert.equal(typeof good!.scores[key], 'number', key);
  assert.equal(good!.flags, undefined);
  assert.ok(good!.scores.quality! > 0.5 && menu!.scores.quality! < 0.5);
  assert.ok(good!.scores.perplexity! < menu!.scores.perplexity!);
  assert.deepEqual(Object.keys(menu!.flags!).sort(), ['c4', 'fineweb', 'gopher_quality', 'gopher_repetition']);
  // The English n-gram model does not score Chinese.
  assert.equal(zh!.scores.perplexity, undefined);
  assert.equal(typeof zh!.scores.offensive, 'number');
});

test('score train, then --model NAME=PATH; usage errors exit 2', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const labels = join(dir, 'labels.jsonl');
  const rows = [
    ...brownParagraphs('cb01').map((text) => ({ text, label: 'good' })),
    ...Array.from({ length: 60 }, (_, i) => ({ text: `Home\nNews\nSports\nLogin\nPage ${i}`, label: 'bad' })),
    { text: 'no label here' },
  ];
  writeFileSync(labels, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const model = join(dir, 'mine.cls.gz');
  const trained = await runLoom(['score', 'train', labels, '--label-field', 'label', '--positive', 'good', '-o', model, '--valid', labels]);
  assert.equal(trained.code, 0, trained.stderr);
  const summary = JSON.parse(/loom score train: (\{.*\})/.exec(trained.stderr)![1]!);
  assert.equal(summary.examples, rows.length - 1);
  assert.ok(summary.valid.f1 > 0.95);
  const scored = await runLoom(['score', '--rules', 'none', '--no-default-models', '--lm', 'none', '--model', `mine=${model}`], { input });
  assert.equal(scored.code, 0, scored.stderr);
  const docs = parseJsonl(scored.stdout) as { scores: Record<string, number> }[];
  assert.deepEqual(Object.keys(docs[0]!.scores), ['mine']);
  assert.ok(docs[0]!.scores.mine! > 0.5 && docs[1]!.scores.mine! < 0.5);

  const usageErrors = [['--rules', 'gopher,c4'], ['--model', 'no-equals'], ['--model', `x=${join(dir, 'missing')}`], ['train', '--label-field', 'label', '--positive', 'x', '-o', model, '--minn', '5', '--maxn', '3']];
  const results = await Promise.all(usageErrors.map((args) => runLoom(['score', ...args], { input: '' })));
  results.forEach((bad, i) => assert.equal(bad.code, 2, `${usageErrors[i]!.join(' ')}: ${bad.stderr}`));
});
