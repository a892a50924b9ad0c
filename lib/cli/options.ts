import type { Argv } from 'yargs';
import type { Compression } from '../io/compression.js';
import { DEFAULT_MAX_LINE_BYTES } from '../io/lines.js';
import { TEXT_SPLITS, type TextSplit } from '../io/text-input.js';
import type { OnError } from '../io/types.js';
import { readConfigFile } from './config.js';
import { integer, outputDirectory, outputFile, positiveInteger, shardSize } from './validate.js';

/** Flags every command accepts (registered once, globally, in bin/loom.ts). */
export interface GlobalArgs {
  quiet: boolean;
  progress: 'auto' | 'json' | 'none';
  seed: number;
  config?: string;
}

/** Flags of every command that reads records. */
export interface InputArgs extends GlobalArgs {
  inputs: string[];
  'on-error': OnError;
  rejects?: string;
  'txt-split': TextSplit;
  'max-line-bytes': number;
}

/** Flags of every command that writes records. */
export interface OutputArgs extends InputArgs {
  out?: string;
  'shard-size': string;
  compression: Compression;
}

export function withGlobalOptions<T>(yargs: Argv<T>) {
  return yargs
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No progress and no run summary on stderr (errors still print)' })
    .option('progress', { choices: ['auto', 'json', 'none'] as const, default: 'auto' as const, describe: 'auto: a status line when stderr is a terminal and CI is unset; json: periodic JSON lines on stderr' })
    .option('seed', { type: 'number', default: 0, coerce: integer('--seed'), describe: 'Seed for every random choice' })
    .option('config', { type: 'string', config: true, configParser: readConfigFile, describe: 'JSON file of flag values (flags > LOOM_* environment > file > defaults)' });
}

export function withInputOptions<T>(yargs: Argv<T>) {
  return yargs
    .positional('inputs', { type: 'string', array: true, default: [] as string[], describe: 'JSONL files (.gz/.zst detected by content), .txt files, globs, shard directories, or - for stdin' })
    .option('txt-split', { choices: TEXT_SPLITS, default: 'file' as TextSplit, describe: '.txt inputs: one document per file, or one per paragraph (lines up to a blank line)' })
    .option('on-error', { choices: ['fail', 'skip'] as const, default: 'fail' as const, describe: 'On a bad line: fail (exit 1) or skip it and go on' })
    .option('rejects', { type: 'string', coerce: outputFile('--rejects'), describe: 'Write every rejected line or dropped record here (JSONL, with its reason)' })
    .option('max-line-bytes', { type: 'number', default: DEFAULT_MAX_LINE_BYTES, defaultDescription: '256 MiB', coerce: positiveInteger('--max-line-bytes'), describe: 'A longer line is a bad line (see --on-error), skipped without being read into memory' });
}

export function withOutputOptions<T>(yargs: Argv<T>) {
  return withInputOptions(yargs)
    .option('out', { alias: 'o', type: 'string', coerce: outputDirectory('--out'), describe: 'Write shard-NNNNN.jsonl.gz files and manifest.json into this directory instead of stdout; a rerun resumes' })
    .option('shard-size', { type: 'string', default: '100000', coerce: shardSize, describe: 'Records per shard, or uncompressed bytes per shard with a unit (256MB, 1GiB)' })
    .option('compression', { choices: ['gzip', 'zstd', 'none'] as const, default: 'gzip' as const, describe: 'Compression of --out shards' });
}
