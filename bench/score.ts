// `loom score` throughput on one core (run by hand, not a test): the rules, each shipped model and
// all of them together over 2 KB English documents (Brown corpus) and 2 KB Chinese documents (UDHR
// in Chinese, about 680 characters each), in process, without JSONL I/O. And the classifier against
// Debian's `fasttext predict` (when installed) on the same documents, each with a model trained on
// the same examples and the same features (word 1–2-grams; and with character 2–4-grams).
// Prints one JSON line.
//   node --import tsx bench/score.ts [--docs 4000]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Classifier, trainClassifier, TRAIN_DEFAULTS } from '../lib/data/score/classifier.js';
import { DEFAULT_CLASSIFIERS, DEFAULT_LM } from '../lib/data/score/models.js';
import { NgramLm } from '../lib/data/score/ngram-lm.js';
import { RULE_NAMES } from '../lib/data/score/rules/index.js';
import { score, type ScoreOptions } from '../lib/data/score/stage.js';
import type { Doc } from '../lib/io/types.js';
import { curatedChinese, curatedEnglish, webEnglish } from '../scripts/score-data.js';
import { fastTextTokens, hasFastText } from '../scripts/fasttext-baseline.js';

const { values } = parseArgs({ options: { docs: { type: 'string', default: '4000' } } });
const count = Number(values.docs);
const cycle = (texts: string[], n: number) => Array.from({ length: n }, (_, i) => texts[i % texts.length]!);
const english = cycle([...curatedEnglish('train', 2000), ...curatedEnglish('test', 2000)].map((t) => t.slice(0, 2048)), count);
const chineseText = [...curatedChinese('train'), ...curatedChinese('test')].join('\n');
const chinese = cycle(Array.from({ length: Math.floor(chineseText.length / 680) }, (_, i) => chineseText.slice(i * 680, (i + 1) * 680)), count);

async function docsPerSecond(texts: string[], opts: Partial<ScoreOptions>, lang: string): Promise<number> {
  async function* docs(): AsyncGenerator<Doc> {
    for (const text of texts) yield { text, lang };
  }
  const started = performance.now();
  for await (const _ of score(docs(), opts)) void _;
  return Math.round(texts.length / ((performance.now() - started) / 1000));
}

const quality = Classifier.load(DEFAULT_CLASSIFIERS.quality!);
const offensive = Classifier.load(DEFAULT_CLASSIFIERS.offensive!);
const lm = NgramLm.load(DEFAULT_LM);
const configs: Record<string, Partial<ScoreOptions>> = {
  rules: { rules: RULE_NAMES },
  quality: { rules: [], classifiers: { quality } },
  offensive: { rules: [], classifiers: { offensive } },
  perplexity: { rules: [], lm },
  rules_and_classifiers: { rules: RULE_NAMES, classifiers: { quality, offensive } },
  all: { rules: RULE_NAMES, classifiers: { quality, offensive }, lm },
};
await docsPerSecond(english.slice(0, 200), configs.all!, 'en'); // warm-up (jieba, JIT)
await docsPerSecond(chinese.slice(0, 200), configs.all!, 'zh');
const en: Record<string, number> = {};
const zh: Record<string, number> = {};
for (const [name, opts] of Object.entries(configs)) {
  en[name] = await docsPerSecond(english, opts, 'en');
  zh[name] = await docsPerSecond(chinese, opts, 'zh');
}

/** loom's classifier and fastText's predict, docs/s, each model trained on the same examples. */
function versusFastText(minn: number, maxn: number) {
  const examples = [...curatedEnglish('train').map((text) => ({ text, label: 'quality' })), ...webEnglish('train', 1000, 0).map((text) => ({ text, label: 'web' }))];
  const features = { buckets: 1 << 18, wordNgrams: 2, minn, maxn };
  const model = trainClassifier(examples, { ...TRAIN_DEFAULTS, features, positive: 'quality' });
  const started = performance.now();
  for (const text of english) model.score(text);
  const loom = english.length / ((performance.now() - started) / 1000);
  if (!hasFastText()) return { loom_docs_s: Math.round(loom), fasttext_docs_s: null };
  const dir = mkdtempSync(join(tmpdir(), 'loom-bench-score-'));
  try {
    writeFileSync(join(dir, 'train.txt'), examples.map((e) => `__label__${e.label} ${fastTextTokens(e.text)}`).join('\n') + '\n');
    execFileSync('fasttext', ['supervised', '-input', join(dir, 'train.txt'), '-output', join(dir, 'model'), '-epoch', String(TRAIN_DEFAULTS.epochs), '-lr', String(TRAIN_DEFAULTS.lr), '-wordNgrams', '2', '-minn', String(minn), '-maxn', String(maxn), '-bucket', String(features.buckets), '-thread', '1', '-verbose', '0'], { stdio: 'ignore' });
    // fastText reads whitespace-separated tokens: give it loom's tokens (its own time excludes tokenizing).
    writeFileSync(join(dir, 'docs.txt'), english.map(fastTextTokens).join('\n') + '\n');
    writeFileSync(join(dir, 'one.txt'), fastTextTokens(english[0]!) + '\n');
    const time = (file: string) => {
      const t = performance.now();
      execFileSync('fasttext', ['predict', join(dir, 'model.bin'), join(dir, file)], { maxBuffer: 1 << 28 });
      return (performance.now() - t) / 1000;
    };
    const startup = Math.min(time('one.txt'), time('one.txt'));
    const all = Math.min(time('docs.txt'), time('docs.txt'));
    const fasttext = english.length / Math.max(all - startup, 1e-9);
    return { loom_docs_s: Math.round(loom), fasttext_docs_s: Math.round(fasttext), ratio: Math.round((loom / fasttext) * 100) / 100 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const classifier = { words: versusFastText(0, 0), words_and_chars: versusFastText(2, 4) };
process.stdout.write(JSON.stringify({ docs: count, en_bytes_per_doc: Math.round(english.reduce((n, t) => n + Buffer.byteLength(t), 0) / count), zh_bytes_per_doc: Math.round(chinese.reduce((n, t) => n + Buffer.byteLength(t), 0) / count), en_docs_s: en, zh_docs_s: zh, classifier_vs_fasttext: classifier }) + '\n');
