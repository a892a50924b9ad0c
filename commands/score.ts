import type { Argv, CommandModule } from 'yargs';
import { withInputOptions, withOutputOptions, type InputArgs, type OutputArgs } from '../lib/cli/options.js';
import { outputsOf, refuseOutputsOverInputs } from '../lib/cli/paths.js';
import { runPipeline, runWithInputs } from '../lib/cli/pipeline.js';
import { fraction, outputFile, positiveInteger, positiveNumber, nonNegativeInteger, validator } from '../lib/cli/validate.js';
import { UsageError } from '../lib/errors.js';
import { Classifier, evaluateClassifier, FEATURE_DEFAULTS, trainClassifier, TRAIN_DEFAULTS, type TrainExample } from '../lib/data/score/classifier.js';
import { assertExists, DEFAULT_CLASSIFIERS, DEFAULT_LM, parseModelSpec } from '../lib/data/score/models.js';
import { checkpointPerplexity } from '../lib/data/score/checkpoint-perplexity.js';
import { NgramLm } from '../lib/data/score/ngram-lm.js';
import { RULE_NAMES } from '../lib/data/score/rules/index.js';
import { score } from '../lib/data/score/stage.js';
import type { Doc } from '../lib/io/types.js';

interface ScoreArgs extends OutputArgs {
  rules: string[];
  model: [string, string][];
  'default-models': boolean;
  lm: string;
  'lm-checkpoint'?: string;
  device: string;
  'lm-max-len': number;
}

/** `--rules gopher_quality,c4` (or all, or none) → rule names, checked. */
function parseRules(value: string | string[]): string[] {
  const names = (Array.isArray(value) ? value.join(',') : value).split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 1 && names[0] === 'all') return RULE_NAMES;
  if (names.length === 1 && names[0] === 'none') return [];
  const unknown = names.filter((n) => !RULE_NAMES.includes(n));
  if (unknown.length > 0) throw new UsageError(`--rules: unknown rule ${unknown.join(', ')} (known: ${RULE_NAMES.join(', ')}, all, none)`);
  return names;
}

interface TrainArgs extends InputArgs {
  'label-field': string;
  positive: string;
  out: string;
  epochs: number;
  lr: number;
  buckets: number;
  'word-ngrams': number;
  minn: number;
  maxn: number;
  'flag-above'?: number;
  valid?: string;
}

/** Text and label of a labelled record, or null (no text, or no label: not a training example). */
function exampleOf(doc: Doc, field: string): TrainExample | null {
  const label = doc[field];
  if (typeof doc.text !== 'string' || label === undefined || label === null || typeof label === 'object') return null;
  return { text: doc.text, label: String(label) };
}

const round4 = (m: Record<string, number>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Math.round(v * 1e4) / 1e4]));

const trainCommand: CommandModule<object, TrainArgs> = {
  command: 'train [inputs..]',
  describe: 'Train a fastText-style classifier (hashed word and character n-grams, linear, softmax) on labelled JSONL',
  builder: (yargs: Argv) =>
    withInputOptions(yargs)
      .option('label-field', { type: 'string', demandOption: true, describe: 'The field holding each record\'s label (records without it are skipped)' })
      .option('positive', { type: 'string', demandOption: true, describe: 'The label whose probability `loom score --model NAME=…` writes as scores.NAME' })
      .option('out', { alias: 'o', type: 'string', demandOption: true, coerce: outputFile('--out'), describe: 'The model file to write (gzip)' })
      .option('epochs', { type: 'number', default: TRAIN_DEFAULTS.epochs, coerce: positiveInteger('--epochs'), describe: 'Passes over the data' })
      .option('lr', { type: 'number', default: TRAIN_DEFAULTS.lr, coerce: positiveNumber('--lr'), describe: 'Starting learning rate (decays linearly to 0)' })
      .option('buckets', { type: 'number', default: FEATURE_DEFAULTS.buckets, coerce: positiveInteger('--buckets'), describe: 'Hash buckets (model size: 4 bytes × buckets × labels before gzip)' })
      .option('word-ngrams', { type: 'number', default: FEATURE_DEFAULTS.wordNgrams, coerce: positiveInteger('--word-ngrams'), describe: 'Word n-grams from 1 to this' })
      .option('minn', { type: 'number', default: FEATURE_DEFAULTS.minn, coerce: nonNegativeInteger('--minn'), describe: 'Shortest character n-gram of a word' })
      .option('maxn', { type: 'number', default: FEATURE_DEFAULTS.maxn, coerce: nonNegativeInteger('--maxn'), describe: 'Longest character n-gram of a word (0: none)' })
      .option('flag-above', { type: 'number', coerce: fraction('--flag-above'), describe: '`loom score` also sets flags.NAME when the probability is at least this' })
      .option('valid', { type: 'string', describe: 'Labelled JSONL to report precision/recall/F1 of the positive label on' })
      .check((argv) => {
        if (argv.maxn > 0 && argv.minn < 1) throw new UsageError('--minn must be ≥ 1 when --maxn is set');
        if (argv.maxn > 0 && argv.minn > argv.maxn) throw new UsageError(`--minn ${argv.minn} is above --maxn ${argv.maxn}`);
        if (argv.valid) assertExists(`--valid ${argv.valid}`, argv.valid);
        return true;
      })
      .example('$0 score train labels.jsonl --label-field label --positive good -o models/mine.cls.gz', 'a quality model from `loom review` labels')
      .example('$0 score train tweets.jsonl --label-field label --positive offensive --minn 2 --maxn 4 --flag-above 0.5 -o offensive.cls.gz', 'an offensive-content model that also sets flags.offensive') as unknown as Argv<TrainArgs>,
  handler: async (argv) => {
    refuseOutputsOverInputs([...argv.inputs, ...(argv.valid ? [argv.valid] : [])], outputsOf(argv));
    const collect = (command: string, args: InputArgs) =>
      runWithInputs(command, args, async ({ docs }) => {
        const examples: TrainExample[] = [];
        for await (const doc of docs) {
          const example = exampleOf(doc, argv['label-field']);
          if (example) examples.push(example);
        }
        return examples;
      });
    const examples = await collect('score train', argv);
    const started = performance.now();
    const model = trainClassifier(examples, {
      features: { buckets: argv.buckets, wordNgrams: argv['word-ngrams'], minn: argv.minn, maxn: argv.maxn },
      epochs: argv.epochs,
      lr: argv.lr,
      seed: argv.seed,
      positive: argv.positive,
      flagAbove: argv['flag-above'],
      training: { examples: examples.length, label_field: argv['label-field'], epochs: argv.epochs, lr: argv.lr, seed: argv.seed },
    });
    const seconds = (performance.now() - started) / 1000;
    const summary: Record<string, unknown> = { out: argv.out, examples: examples.length, labels: model.header.labels, train_seconds: Math.round(seconds * 100) / 100, train: round4({ ...evaluateClassifier(model, examples) }) };
    if (argv.valid) summary.valid = round4({ ...evaluateClassifier(model, await collect('score train', { ...argv, inputs: [argv.valid], quiet: true })) });
    model.save(argv.out);
    if (!argv.quiet) process.stderr.write(`loom score train: ${JSON.stringify(summary)}\n`);
  },
};

export const scoreCommand: CommandModule<object, ScoreArgs> = {
  command: 'score [inputs..]',
  describe: 'Add quality signals to documents: Gopher, C4 and FineWeb rules, classifier scores (quality, offensive) and n-gram perplexity, as scores.* and flags',
  builder: (yargs: Argv) =>
    withOutputOptions(yargs)
      .command([trainCommand] as CommandModule<object, never>[])
      .option('rules', { type: 'string', default: 'all', coerce: parseRules, describe: `Rule families, comma-separated: ${RULE_NAMES.join(', ')}; all or none` })
      .option('model', { type: 'string', array: true, default: [] as string[], coerce: (specs: string[]) => specs.map(parseModelSpec), describe: 'NAME=PATH: a classifier from `score train`; writes scores.NAME (repeatable; replaces a shipped model of the same name)' })
      .option('default-models', { type: 'boolean', default: true, describe: 'Apply the shipped quality and offensive models (--no-default-models: only --model ones)' })
      .option('lm', {
        type: 'string',
        default: 'default',
        coerce: validator<string>('--lm', 'default, none or an n-gram model file', (v) => v === 'default' || v === 'none' || v !== ''),
        describe: 'n-gram model for scores.perplexity: default (shipped, English), none, or a file',
      })
      .option('lm-checkpoint', { type: 'string', describe: 'Also scores.lm_perplexity: each document\'s perplexity under this loom checkpoint (a GPU when there is one)' })
      .option('device', { type: 'string', default: 'auto', describe: 'For --lm-checkpoint: cpu, cuda, cuda:N, or auto' })
      .option('lm-max-len', { type: 'number', default: 1024, coerce: positiveInteger('--lm-max-len'), describe: 'For --lm-checkpoint: tokens of each document that count (its start)' })
      .example('$0 score docs.jsonl > scored.jsonl', 'every rule, scores.quality, scores.offensive (flags.offensive at ≥ 0.5) and scores.perplexity')
      .example('$0 score docs.jsonl --rules gopher_quality,fineweb --no-default-models --lm none', 'rules only')
      .example('$0 score docs.jsonl --model mine=models/mine.cls.gz', 'add your own classifier as scores.mine')
      .example('$0 score docs.jsonl --lm-checkpoint ckpt/base', 'and perplexity under a pretrained loom model')
      .epilogue('Subcommand: train. Signals, thresholds and figures: docs/score.md. `loom filter` keeps or drops by them.') as unknown as Argv<ScoreArgs>,
  handler: async (argv) => {
    for (const [name, path] of argv.model) assertExists(`--model ${name}=${path}`, path);
    if (argv.lm !== 'default' && argv.lm !== 'none') assertExists(`--lm ${argv.lm}`, argv.lm);
    const paths = { ...(argv['default-models'] ? DEFAULT_CLASSIFIERS : {}), ...Object.fromEntries(argv.model) };
    const classifiers = Object.fromEntries(Object.entries(paths).map(([name, path]) => [name, Classifier.load(path)]));
    const lm = argv.lm === 'none' ? undefined : NgramLm.load(argv.lm === 'default' ? DEFAULT_LM : argv.lm);
    const checkpoint = argv['lm-checkpoint'];
    if (checkpoint) assertExists(`--lm-checkpoint ${checkpoint}`, checkpoint);
    await runPipeline('score', argv, (docs, { rejects }) => {
      const scored = score(docs, { rules: argv.rules, classifiers, lm, rejects });
      return checkpoint ? checkpointPerplexity(scored, { checkpoint, device: argv.device, maxLen: argv['lm-max-len'], rejects }) : scored;
    });
  },
};
