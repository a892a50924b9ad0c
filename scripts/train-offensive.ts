// Trains the shipped offensive-content classifier (models/offensive.cls.gz) on the development data
// in ../shared/data/offensive: COLD's train split (Chinese, Apache-2.0) and 90% of the Davidson et al.
// tweets (English, MIT; hate speech and offensive language are "offensive", neither is "safe").
// Five in six of those tweets are offensive, so on its own the model calls most English prose
// offensive; curated prose and clean web text (scripts/score-data.ts, train split) are added as
// "safe" to teach it what ordinary documents look like.
// Reports precision/recall/F1 of the offensive label on COLD dev and the held-out 10% of Davidson,
// the share of held-out Brown documents and paragraphs flagged, and, where Debian's `fasttext` is
// installed, the same figures for fastText trained on the same split with the same settings, as
// one JSON line.
//
//   node --import tsx scripts/train-offensive.ts [--data ../shared/data/offensive] [--out models/offensive.cls.gz]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { evaluateClassifier, trainClassifier, type TrainExample } from '../lib/data/score/classifier.js';
import { createRandom } from '../lib/util/random.js';
import { fastTextBaseline } from './fasttext-baseline.js';
import { brownSplitParagraphs, curatedChinese, curatedEnglish, webChinese, webEnglish } from './score-data.js';

const { values } = parseArgs({ options: { data: { type: 'string', default: '../shared/data/offensive' }, out: { type: 'string', default: 'models/offensive.cls.gz' }, seed: { type: 'string', default: '0' }, lr: { type: 'string', default: '1' }, epochs: { type: 'string', default: '10' }, 'no-baseline': { type: 'boolean', default: false } } });
const seed = Number(values.seed);
const jsonl = (file: string) => readFileSync(join(values.data!, file), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { text: string; label: number });

const cold = (file: string): TrainExample[] => jsonl(file).map((d) => ({ text: d.text, label: d.label === 1 ? 'offensive' : 'safe' }));
const davidson: TrainExample[] = jsonl('davidson-labeled.jsonl').map((d) => ({ text: d.text, label: d.label === 2 ? 'safe' : 'offensive' }));
// A fixed 10% of the tweets is held out (seeded shuffle).
const random = createRandom(seed);
const order = davidson.map((_, i) => i);
for (let i = order.length - 1; i > 0; i--) {
  const j = random.int(i + 1);
  [order[i], order[j]] = [order[j]!, order[i]!];
}
const heldOut = new Set(order.slice(0, Math.round(davidson.length / 10)));
const enTrain = davidson.filter((_, i) => !heldOut.has(i));
const enTest = davidson.filter((_, i) => heldOut.has(i));
const zhTrain = cold('cold-train.jsonl');
const zhDev = cold('cold-dev.jsonl');
const safe = (texts: string[]): TrainExample[] => texts.map((text) => ({ text, label: 'safe' }));
const documents = [...curatedEnglish('train'), ...brownSplitParagraphs('train'), ...curatedChinese('train'), ...webEnglish('train', 1000, 0), ...webChinese('train', 200, 0)];
const train = [...zhTrain, ...enTrain, ...safe(documents)];
const prose = safe([...curatedEnglish('test'), ...brownSplitParagraphs('test')]);

const settings = { features: { buckets: 1 << 18, wordNgrams: 2, minn: 0, maxn: 0 }, epochs: Number(values.epochs), lr: Number(values.lr), seed };
const started = performance.now();
const model = trainClassifier(train, {
  ...settings,
  positive: 'offensive',
  flagAbove: 0.5,
  training: { data: 'COLD train (zh, Apache-2.0) + 90% of Davidson et al. 2017 (en, MIT) + Brown corpus, UDHR zh and generated web pages as safe (scripts/score-data.ts)', examples: train.length, epochs: settings.epochs, lr: settings.lr, seed },
});
const trainSeconds = (performance.now() - started) / 1000;
const round = (m: Record<string, number>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Math.round(v * 1e4) / 1e4]));
const loom = { cold_dev: round({ ...evaluateClassifier(model, zhDev) }), davidson_test: round({ ...evaluateClassifier(model, enTest) }), brown_test_flagged: round({ share: 1 - evaluateClassifier(model, prose).accuracy }).share, train_s: Math.round(trainSeconds * 10) / 10 };
model.header.training = { ...model.header.training, cold_dev: loom.cold_dev, davidson_test: loom.davidson_test };
model.save(values.out!);
const fasttext = !values['no-baseline'] && fastTextBaseline(train, { cold_dev: zhDev, davidson_test: enTest, brown_test: prose }, settings, 'offensive');
process.stdout.write(JSON.stringify({ model: values.out, train_examples: train.length, loom, fasttext }) + '\n');
