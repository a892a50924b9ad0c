import { availableParallelism } from 'node:os';
import type { Argv, CommandModule } from 'yargs';
import { outputsOf, refuseOutputsOverInputs } from '../lib/cli/paths.js';
import { runPipeline, Warnings } from '../lib/cli/pipeline.js';
import { withInputOptions, withOutputOptions, type GlobalArgs, type InputArgs, type OutputArgs } from '../lib/cli/options.js';
import { fraction, nonNegativeInteger, outputFile, positiveInteger, writableDirectory } from '../lib/cli/validate.js';
import { ReadCounters } from '../lib/io/read.js';
import { RejectSink } from '../lib/io/rejects.js';
import { dedup } from '../lib/data/dedup/stream.js';
import { dedupFilter, parseShard, runBuckets, runClusterPart, runClusters, runSignatures, shardInputs } from '../lib/data/dedup/multistage.js';
import { DEDUP_DEFAULTS, validateParams, type DedupParams, type KeepPolicy } from '../lib/data/dedup/options.js';
import type { NormalizationStep } from '../lib/data/dedup/normalize.js';
import type { DedupMode } from '../lib/data/dedup/decide.js';

interface ParamArgs {
  exact: boolean;
  normalize: string;
  url: boolean;
  fuzzy: boolean;
  bands: number;
  rows: number;
  ngram: number;
  'char-ngram': number;
  keep: string;
  workers: number;
}

interface DedupArgs extends OutputArgs, ParamArgs {
  mode: DedupMode;
  verify: boolean;
  jaccard: number;
  report?: string;
  'tmp-dir'?: string;
}

const STREAMING_ONLY = ['inputs', 'on-error', 'rejects', 'out', 'shard-size', 'compression', 'exact', 'normalize', 'url', 'fuzzy', 'bands', 'rows', 'ngram', 'char-ngram', 'keep', 'workers', 'mode', 'verify', 'jaccard', 'report', 'tmp-dir'];

/** Keeps the streaming command's flags out of the subcommands (yargs makes options global by default). */
function streamingOnly<T>(yargs: Argv<T>): Argv<T> {
  // @types/yargs lacks the second parameter of `global(keys, isGlobal)`.
  return (yargs as unknown as { global(keys: string[], isGlobal: boolean): Argv<T> }).global(STREAMING_ONLY, false);
}

const DEFAULT_WORKERS = Math.max(0, Math.min(8, availableParallelism() - 1));

function withParamOptions<T>(yargs: Argv<T>) {
  const d = DEDUP_DEFAULTS;
  return yargs
    .option('exact', { type: 'boolean', default: d.exact, describe: 'Drop exact duplicates of the normalized text (first occurrence kept); --no-exact to skip' })
    .option('normalize', { type: 'string', default: d.normalize.join(','), describe: 'Normalization before the exact hash: comma list of nfkc, lowercase, diacritics, punctuation, digits, whitespace' })
    .option('url', { type: 'boolean', default: d.url, describe: 'Also drop documents whose `url` was already seen' })
    .option('fuzzy', { type: 'boolean', default: d.fuzzy, describe: 'MinHash-LSH near-duplicate detection; --no-fuzzy for exact only' })
    .option('bands', { type: 'number', default: d.bands, describe: 'LSH bands (b); hashes = bands × rows' })
    .option('rows', { type: 'number', default: d.rows, describe: 'Rows per band (r); detection probability 1-(1-s^r)^b, threshold ≈ (1/b)^(1/r)' })
    .option('ngram', { type: 'number', default: d.ngram, describe: 'Words per n-gram (space-delimited languages)' })
    .option('char-ngram', { type: 'number', default: d.charNgram, describe: 'Characters per n-gram for Chinese/Japanese/Korean (from `lang`, else from the script)' })
    .option('keep', { type: 'string', default: d.keep, describe: 'Which document of a cluster survives: first, longest, or score:NAME (highest scores.NAME); ties go to the earliest' })
    .option('workers', { type: 'number', default: DEFAULT_WORKERS, coerce: nonNegativeInteger('--workers'), describe: 'Hashing threads (0: hash on the main thread); results do not depend on it' });
}

function params(argv: ParamArgs & GlobalArgs): DedupParams {
  return validateParams({
    exact: argv.exact,
    normalize: argv.normalize.split(',').map((s) => s.trim()).filter((s) => s !== '') as NormalizationStep[],
    url: argv.url,
    fuzzy: argv.fuzzy,
    bands: argv.bands,
    rows: argv.rows,
    ngram: argv.ngram,
    charNgram: argv['char-ngram'],
    seed: argv.seed,
    keep: argv.keep as KeepPolicy,
  });
}

const say = (argv: GlobalArgs, message: string) => {
  if (!argv.quiet) process.stderr.write(`${message}\n`);
};

interface SignaturesArgs extends InputArgs, ParamArgs {
  work: string;
  shard?: string;
}

const signaturesCommand: CommandModule<object, SignaturesArgs> = {
  command: 'signatures [inputs..]',
  describe: 'Multi-stage step 1: hash the input files of task i/N (file f belongs to task f mod N)',
  builder: (yargs: Argv) =>
    withParamOptions(withInputOptions(yargs))
      .option('work', { type: 'string', demandOption: true, describe: 'Work directory shared by all steps' })
      .option('shard', { type: 'string', describe: 'This task, as i/N (0-based); default 0/1' })
      .example('$0 dedup signatures shards/ --work dd/ --shard $SLURM_ARRAY_TASK_ID/64', 'one task of a 64-task array') as unknown as Argv<SignaturesArgs>,
  handler: async (argv) => {
    refuseOutputsOverInputs(argv.inputs, outputsOf(argv));
    const shard = parseShard(argv.shard);
    const warnings = new Warnings();
    const rejects = argv.rejects ? new RejectSink(argv.rejects) : undefined;
    const counters = new ReadCounters();
    const started = performance.now();
    try {
      const result = await runSignatures(argv.inputs, { work: argv.work, shard, params: params(argv), workers: argv.workers, onError: argv['on-error'], rejects, counters, warn: warnings.warn });
      const seconds = (performance.now() - started) / 1000;
      say(argv, result.skipped ? `loom dedup signatures: task ${argv.shard ?? '0/1'} is already done` : `loom dedup signatures: task ${shard.index}/${shard.count}: ${result.docs} documents, ${(result.bytes / 1e6).toFixed(1)} MB of text in ${seconds.toFixed(1)} s`);
    } finally {
      warnings.finish();
      rejects?.close();
    }
  },
};

interface WorkArgs extends GlobalArgs {
  work: string;
  shard?: string;
}

const bucketsCommand: CommandModule<object, WorkArgs> = {
  command: 'buckets',
  describe: 'Multi-stage step 2: per key space (exact, url, each band), link documents that share a hash; task j/M does spaces k ≡ j (mod M)',
  builder: (yargs: Argv) =>
    yargs
      .option('work', { type: 'string', demandOption: true, describe: 'Work directory shared by all steps' })
      .option('shard', { type: 'string', describe: 'This task, as j/M (0-based); default 0/1 does every space' })
      .example('$0 dedup buckets --work dd/ --shard $SLURM_ARRAY_TASK_ID/16', 'one of 16 parallel bucket tasks') as unknown as Argv<WorkArgs>,
  handler: (argv) => {
    const r = runBuckets(argv.work, parseShard(argv.shard));
    say(argv, `loom dedup buckets: ${r.spaces - r.skipped} key spaces done (${r.skipped} already done), ${r.edges} edges`);
  },
};

interface ClustersArgs extends WorkArgs {
  parts?: number;
  report?: string;
}

const clustersCommand: CommandModule<object, ClustersArgs> = {
  command: 'clusters',
  describe: 'Multi-stage step 3: union-find over the bucket edges; with --shard j/M a parallel reduction, then a final run with --parts M',
  builder: (yargs: Argv) =>
    yargs
      .option('work', { type: 'string', demandOption: true, describe: 'Work directory shared by all steps' })
      .option('shard', { type: 'string', describe: 'Reduce the edge files of spaces k ≡ j (mod M) to a forest (parallel part)' })
      .option('parts', { type: 'number', coerce: positiveInteger('--parts'), describe: 'Final run: merge the M parts of an earlier `clusters --shard j/M` instead of the bucket edges' })
      .option('report', { type: 'string', coerce: outputFile('--report'), describe: 'Write the cluster report (JSONL, one line per cluster of 2+ documents)' })
      .example('$0 dedup clusters --work dd/ --report clusters.jsonl', 'one task: all edges')
      .example('$0 dedup clusters --work dd/ --shard $I/4 && $0 dedup clusters --work dd/ --parts 4', 'four parallel parts, then the merge') as unknown as Argv<ClustersArgs>,
  handler: (argv) => {
    if (argv.shard !== undefined) {
      const r = runClusterPart(argv.work, parseShard(argv.shard));
      say(argv, r.skipped ? `loom dedup clusters: part ${argv.shard} is already done` : `loom dedup clusters: part ${argv.shard}: ${r.edges} forest edges`);
      return;
    }
    const r = runClusters(argv.work, { parts: argv.parts, report: argv.report });
    say(argv, r.skipped ? 'loom dedup clusters: already done' : `loom dedup clusters: ${r.documents} documents with duplicates in ${r.clusters} clusters`);
  },
};

interface FilterArgs extends OutputArgs {
  work: string;
  shard?: string;
  mode: DedupMode;
}

const filterCommand: CommandModule<object, FilterArgs> = {
  command: 'filter',
  describe: 'Multi-stage step 4: write the documents of task i/N, dropped or tagged by their clusters (inputs come from the work directory)',
  builder: (yargs: Argv) =>
    withOutputOptions(yargs)
      .option('work', { type: 'string', demandOption: true, describe: 'Work directory shared by all steps' })
      .option('shard', { type: 'string', describe: 'This task, as i/N like signatures; default 0/1' })
      .option('mode', { choices: ['drop', 'tag'] as const, default: 'drop' as const, describe: 'drop duplicates (to --rejects with their cluster) or tag every document with dedup: {cluster, size, kept}' })
      .example('$0 dedup filter --work dd/ --shard $SLURM_ARRAY_TASK_ID/64 --out out/$SLURM_ARRAY_TASK_ID --rejects dups/$SLURM_ARRAY_TASK_ID.jsonl', 'one filter task') as unknown as Argv<FilterArgs>,
  handler: async (argv) => {
    const shard = parseShard(argv.shard);
    const inputs = shardInputs(argv.work, shard);
    if (inputs.length === 0) return say(argv, `loom dedup filter: task ${shard.index}/${shard.count} has no input files`);
    await runPipeline('dedup filter', { ...argv, inputs }, (docs, { rejects }) => dedupFilter(docs, { work: argv.work, shard, mode: argv.mode, rejects }));
  },
};

export const dedupCommand: CommandModule<object, DedupArgs> = {
  command: 'dedup [inputs..]',
  describe: 'Exact and MinHash-LSH near-duplicate removal (streaming; or multi-stage: signatures, buckets, clusters, filter)',
  builder: (yargs: Argv) =>
    streamingOnly(withParamOptions(withOutputOptions(yargs))
      .command([signaturesCommand, bucketsCommand, clustersCommand, filterCommand] as CommandModule<object, never>[])
      .option('mode', { choices: ['drop', 'tag'] as const, default: 'drop' as const, describe: 'drop duplicates (to --rejects with their cluster) or tag every document with dedup: {cluster, size, kept}' })
      .option('verify', { type: 'boolean', default: false, describe: 'Check each LSH candidate pair\'s exact Jaccard similarity before merging (one more pass over the spill)' })
      .option('jaccard', { type: 'number', default: 0.7, coerce: fraction('--jaccard'), describe: 'Minimum n-gram Jaccard similarity for --verify' })
      .option('report', { type: 'string', coerce: outputFile('--report'), describe: 'Write the cluster report (JSONL, one line per cluster of 2+ documents)' })
      .option('tmp-dir', { type: 'string', coerce: writableDirectory('--tmp-dir'), describe: 'Where to spill documents between the two passes (default: the OS temp directory; needs the input\'s uncompressed size)' })
      .example('loom extract crawl/*.warc.gz | $0 dedup > unique.jsonl', 'exact + near-duplicate removal in a pipeline')
      .example('$0 dedup docs.jsonl --mode tag --report clusters.jsonl --keep longest', 'tag every document with its cluster; keep the longest of each')
      .example('$0 dedup zh.jsonl --rejects dups.jsonl --char-ngram 3', 'Chinese with character trigrams; dropped documents with their cluster in dups.jsonl')
      .epilogue('Multi-stage (Slurm, make -j, GNU parallel): see `loom dedup signatures --help` and docs/dedup.md.'),
    ) as unknown as Argv<DedupArgs>,
  handler: async (argv) => {
    const p = params(argv);
    await runPipeline('dedup', argv, (docs, { rejects }) =>
      dedup(docs, { ...p, mode: argv.mode, workers: argv.workers, verify: argv.verify, jaccard: argv.jaccard, report: argv.report, tmpDir: argv['tmp-dir'], rejects }),
    );
  },
};
