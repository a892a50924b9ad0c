// Trains the shipped offensive-content classifier (models/offensive.cls.gz) on the development data
// in ../shared/data/offensive: COLD's train split (Chinese, Apache-2.0) and 90% of the Davidson et al.
// tweets (English, MIT; hate speech and offensive language are "offensive", neither is "safe").
// Reports precision/recall/F1 of the offensive label on COLD dev and the held-out 10% of Davidson,
// and, where Debian's `fasttext` is installed, the same figures for fastText trained on the same
// split with the same settings, as one JSON line.
//
//   node --import tsx scripts/train-offensive.ts [--data ../shared/data/offensive] [--out models/offensive.cls.gz]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { evaluateClassifier, trainClassifier, type TrainExample } from '../lib/data/score/classifier.js';
import { createRandom } from '../lib/util/random.js';
import { fastTextBaseline } from './fasttext-baseline.js';

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
const train = [...zhTrain, ...enTrain];

const settings = { features: { buckets: 1 << 18, wordNgrams: 2, minn: 2, maxn: 4 }, epochs: Number(values.epochs), lr: Number(values.lr), seed };
const started = performance.now();
const model = trainClassifier(train, {
  ...settings,
  positive: 'offensive',
  flagAbove: 0.5,
  training: { data: 'COLD train (zh, Apache-2.0) + 90% of Davidson et al. 2017 (en, MIT)', examples: train.length, epochs: settings.epochs, lr: settings.lr, seed },
});
const trainSeconds = (performance.now() - started) / 1000;
const round = (m: Record<string, number>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Math.round(v * 1e4) / 1e4]));
const loom = { cold_dev: round({ ...evaluateClassifier(model, zhDev) }), davidson_test: round({ ...evaluateClassifier(model, enTest) }), train_s: Math.round(trainSeconds * 10) / 10 };
model.header.training = { ...model.header.training, cold_dev: loom.cold_dev, davidson_test: loom.davidson_test };
model.save(values.out!);
const fasttext = !values['no-baseline'] && fastTextBaseline(train, { cold_dev: zhDev, davidson_test: enTest }, settings, 'offensive');
process.stdout.write(JSON.stringify({ model: values.out, train_examples: train.length, loom, fasttext }) + '\n');
