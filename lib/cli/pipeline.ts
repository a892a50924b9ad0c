import { statSync } from 'node:fs';
import { escapeControls, formatLocation } from '../errors.js';
import { resolveInputs } from '../io/inputs.js';
import { runFingerprint, type ShardManifest } from '../io/manifest.js';
import { readDocs, ReadCounters, type ReadOptions } from '../io/read.js';
import { RejectSink } from '../io/rejects.js';
import { parseShardSize, reportInterrupts, writeShards } from '../io/shards.js';
import type { Doc } from '../io/types.js';
import { WriteCounters, writeJsonl } from '../io/write.js';
import { StageRun } from '../stage.js';
import { formatBytes, formatCount, formatDuration } from '../ui/format.js';
import { resolvedConfig } from './config.js';
import type { InputArgs, OutputArgs } from './options.js';
import { outputsOf, refuseOutputsOverInputs } from './paths.js';
import { countedBytes, startProgress, type ProgressSnapshot } from './progress.js';

/** Prints `file:line: reason` for skipped lines; after 100, only a count at the end. */
export class Warnings {
  shown = 0;
  suppressed = 0;
  constructor(private readonly limit = 100) {}
  warn = (message: string) => {
    if (this.shown < this.limit) {
      this.shown += 1;
      process.stderr.write(`${escapeControls(message)}\n`);
    } else this.suppressed += 1;
  };
  finish(): void {
    if (this.suppressed > 0) process.stderr.write(`… and ${this.suppressed} more bad lines (see --rejects)\n`);
  }
}

/**
 * Where a command's input documents come from: JSONL by default; extract brings its own reader
 * (WARC, HTML) and its own input resolution (directories of HTML files).
 */
export interface DocInput {
  read(specs: readonly string[], opts: ReadOptions): AsyncIterable<Doc>;
  /** `size`: the bytes its reader counts in this source, where it counts them as stored (see countedBytes). */
  resolve(specs: readonly string[]): Promise<{ name: string; size?: number }[]>;
}

const JSONL_INPUT: DocInput = { read: readDocs, resolve: resolveInputs };

/** What a command's body gets: the input documents and the run's shared machinery. */
export interface RunIO {
  docs: AsyncIterable<Doc>;
  rejects?: RejectSink;
  /** Prints `file:line: reason` on stderr (at most 100, then a count). */
  warn: (message: string) => void;
  read: ReadCounters;
  written: WriteCounters;
  /** Registers the stage whose counters the progress display and summary should show. */
  watch(stage: StageRun): void;
}

/**
 * Runs a command body over the inputs with the shared conventions: --on-error, --rejects,
 * `file:line` warnings, progress on stderr, and the run summary.
 */
export async function runWithInputs<T>(command: string, argv: InputArgs, body: (io: RunIO) => Promise<T>, input: DocInput = JSONL_INPUT): Promise<T> {
  refuseOutputsOverInputs(argv.inputs, outputsOf(argv));
  const started = performance.now();
  const rejects = argv.rejects ? new RejectSink(argv.rejects) : undefined;
  const warnings = new Warnings();
  const read = new ReadCounters();
  const written = new WriteCounters();
  let stage: StageRun | undefined;
  const docs = input.read(argv.inputs, { onError: argv['on-error'], rejects, counters: read, warn: warnings.warn, maxLineBytes: argv['max-line-bytes'], txtSplit: argv['txt-split'] });
  // Found in the background: a percentage and an ETA appear once the inputs' sizes are known.
  let totalBytes: number | undefined;
  if (!argv.quiet) void countedBytes(input.resolve(argv.inputs)).then((n) => (totalBytes = n));
  const snapshot = (): ProgressSnapshot => ({
    label: `loom ${command}`,
    records: read.records,
    bytes: read.bytes,
    totalBytes,
    out: written.records,
    rejected: read.rejected,
    dropped: stage?.counters.dropped ?? 0,
    extra: stage?.counters.extra,
  });
  const progress = await startProgress(argv.progress, snapshot, argv.quiet);
  let result: T;
  try {
    result = await body({ docs, rejects, read, written, warn: warnings.warn, watch: (s) => (stage = s) });
  } finally {
    await progress.stop();
    warnings.finish();
    rejects?.close();
  }
  if (!argv.quiet) {
    const seconds = (performance.now() - started) / 1000;
    const dropped = stage?.counters.dropped ?? 0;
    const parts = [
      `${formatCount(read.records)} in`,
      `${formatCount(written.records)} out`,
      `${formatCount(read.rejected)} rejected lines`,
      ...(dropped > 0 ? [`${formatCount(dropped)} dropped (${dropReasons(stage!.counters.dropReasons)})`] : []),
      ...(read.firstInvalidUtf8
        ? [`${formatCount(read.invalidUtf8Lines)} ${read.invalidUtf8Lines === 1 ? 'line' : 'lines'} with invalid UTF-8, read with U+FFFD (first at ${formatLocation(read.firstInvalidUtf8)})`]
        : []),
      `${formatBytes(read.bytes)} in ${formatDuration(seconds)} (${formatBytes(read.bytes / Math.max(seconds, 1e-9))}/s)`,
    ];
    process.stderr.write(`loom ${command}: ${parts.join(' · ')}\n`);
  }
  return result;
}

/** `12 too short, 3 language`: the most frequent reasons first. */
function dropReasons(reasons: Record<string, number>): string {
  return Object.entries(reasons)
    .sort(([a, m], [b, n]) => n - m || a.localeCompare(b))
    .map(([reason, n]) => `${formatCount(n)} ${reason}`)
    .join(', ');
}

/** What a command plugs between the reader and the writer. */
export type Transform = (docs: AsyncIterable<Doc>, io: { rejects?: RejectSink; warn: (message: string) => void }) => AsyncIterable<Doc>;

/** `inputs → transform → stdout | --out DIR` (resumable shards with a manifest). */
export async function runPipeline(command: string, argv: OutputArgs, transform: Transform, input: DocInput = JSONL_INPUT): Promise<ShardManifest | undefined> {
  return runWithInputs(command, argv, async ({ docs, rejects, read, written, warn, watch }) => {
    const output = transform(docs, { rejects, warn });
    if (output instanceof StageRun) watch(output);
    if (!argv.out) {
      await writeJsonl(output, process.stdout, written);
      return undefined;
    }
    const config = resolvedConfig(argv);
    const inputs = await describeInputs(argv.inputs, input);
    const dropped = () => (output instanceof StageRun ? output.counters.dropped : 0);
    const stopReportingInterrupts = reportInterrupts(command, argv.out);
    const result = await writeShards(
      output,
      {
        dir: argv.out,
        size: parseShardSize(argv['shard-size']),
        compression: argv.compression,
        run: { command, config, inputs, seed: argv.seed, fingerprint: runFingerprint(command, config, inputs) },
        counts: () => ({ records_in: read.records, rejected: read.rejected + dropped(), invalid_utf8_lines: read.invalidUtf8Lines }),
      },
      written,
    ).finally(stopReportingInterrupts);
    if (!argv.quiet && result.alreadyComplete) process.stderr.write(`loom ${command}: ${argv.out} is already complete; nothing to do\n`);
    if (!argv.quiet && result.skippedRecords > 0) {
      process.stderr.write(`loom ${command}: resumed after ${formatCount(result.skippedRecords)} records already in finished shards\n`);
    }
    return result.manifest;
  }, input);
}

/** Input identity for the resume fingerprint: names, sizes and modification times. */
async function describeInputs(specs: readonly string[], input: DocInput): Promise<ShardManifest['inputs']> {
  const sources = await input.resolve(specs);
  return sources.map((source) => {
    if (source.name === '<stdin>') return { path: '-' };
    const stat = statSync(source.name);
    return { path: source.name, bytes: stat.size, mtime: stat.mtime.toISOString() };
  });
}
