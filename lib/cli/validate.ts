// Flag validators, used as yargs `coerce` functions: a bad value is a usage error (exit 2) while
// the command line is parsed, before any input is read or any output opened. Each takes the flag's
// name for the message, e.g. `.option('lr', { type: 'number', coerce: positiveNumber('--lr') })`.
import { accessSync, constants, statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { parseShardSize } from '../io/shards.js';

/** Returns the value unchanged, or throws a UsageError naming the flag. Absent values pass. */
export type Validator<T> = (value: T) => T;

/** A validator from a predicate; `expectation` completes "FLAG must be …". */
export function validator<T>(flag: string, expectation: string, ok: (value: T) => boolean): Validator<T> {
  return (value) => {
    if (value === undefined || ok(value)) return value;
    throw new UsageError(`${flag} must be ${expectation}, got ${shown(value)}`);
  };
}

function shown(value: unknown): string {
  // yargs turns a `type: 'number'` flag it cannot read (`--seed abc`) into NaN before we see it.
  if (typeof value === 'number' && Number.isNaN(value)) return 'something that is not a number';
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

export const integer = (flag: string) => validator<number>(flag, 'an integer', Number.isInteger);
export const positiveInteger = (flag: string) => validator<number>(flag, 'a whole number ≥ 1', (v) => Number.isInteger(v) && v >= 1);
export const nonNegativeInteger = (flag: string) => validator<number>(flag, 'a whole number ≥ 0', (v) => Number.isInteger(v) && v >= 0);
export const positiveNumber = (flag: string) => validator<number>(flag, 'a number > 0', (v) => Number.isFinite(v) && v > 0);
export const nonNegativeNumber = (flag: string) => validator<number>(flag, 'a number ≥ 0', (v) => Number.isFinite(v) && v >= 0);
export const fraction = (flag: string) => validator<number>(flag, 'a number from 0 to 1', (v) => Number.isFinite(v) && v >= 0 && v <= 1);

/** `--shard-size`: a record count or a byte size with a unit (parseShardSize says what is wrong). */
export const shardSize: Validator<string> = (value) => {
  if (value !== undefined) parseShardSize(value);
  return value;
};

function statOf(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** A directory that exists and can be written into (--tmp-dir). */
export function writableDirectory(flag: string): Validator<string> {
  return (path) => {
    if (path === undefined) return path;
    const stat = statOf(path);
    if (!stat) throw new UsageError(`${flag} ${path}: no such directory`);
    if (!stat.isDirectory()) throw new UsageError(`${flag} ${path}: not a directory`);
    assertWritable(flag, path, path);
    return path;
  };
}

/** A directory that loom will create or write into (--out DIR): not an existing file, nor under one. */
export function outputDirectory(flag: string): Validator<string> {
  return outputPath(flag, 'directory');
}

/** A file that loom will create or replace (--rejects, --report, --metrics): not an existing directory. */
export function outputFile(flag: string): Validator<string> {
  return outputPath(flag, 'file');
}

function outputPath(flag: string, kind: 'file' | 'directory'): Validator<string> {
  return (path) => {
    if (path === undefined) return path;
    if (path === '') throw new UsageError(`${flag}: give a path`);
    const stat = statOf(path);
    if (stat && kind === 'directory' && !stat.isDirectory()) throw new UsageError(`${flag} ${path}: exists and is not a directory`);
    if (stat && kind === 'file' && stat.isDirectory()) throw new UsageError(`${flag} ${path}: is a directory; give a file path`);
    if (stat) {
      assertWritable(flag, path, path);
      return path;
    }
    // The nearest existing ancestor is where mkdir -p starts: it must be a directory we may write.
    let parent = dirname(resolve(path));
    let parentStat = statOf(parent);
    while (!parentStat && dirname(parent) !== parent) parentStat = statOf((parent = dirname(parent)));
    if (parentStat && !parentStat.isDirectory()) throw new UsageError(`${flag} ${path}: ${parent} is a file, not a directory`);
    assertWritable(flag, path, parent);
    return path;
  };
}

function assertWritable(flag: string, path: string, place: string): void {
  try {
    accessSync(place, constants.W_OK);
  } catch {
    throw new UsageError(`${flag} ${path}: cannot write ${place === path ? 'it' : `into ${place}`}`);
  }
}
