import { createReadStream, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { glob } from 'tinyglobby';
import { DataError, UsageError } from '../errors.js';
import { MANIFEST_FILE, type ShardManifest } from './manifest.js';

/** A byte source: a file, or stdin under the name `-`. */
export interface InputSource {
  name: string;
  open(): AsyncIterable<Buffer>;
}

const DATA_FILE = /\.(jsonl|ndjson|json)(\.gz|\.zst)?$/i;
const GLOB_CHARS = /[*?[\]{}]/;

export interface ResolveOptions {
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
}

/**
 * Expands the command line's inputs: paths, globs (expanded here too, for quoted globs and Slurm
 * scripts), shard directories (via their manifest.json), and `-` or nothing for stdin.
 */
export async function resolveInputs(specs: readonly string[], opts: ResolveOptions = {}): Promise<InputSource[]> {
  const stdin = opts.stdin ?? process.stdin;
  if (specs.length === 0) {
    if ((stdin as { isTTY?: boolean }).isTTY) {
      throw new UsageError('no input: give files, globs or directories, or pipe records on stdin');
    }
    specs = ['-'];
  }
  const sources: InputSource[] = [];
  for (const spec of specs) {
    if (spec === '-') {
      sources.push({ name: '<stdin>', open: () => stdin as AsyncIterable<Buffer> });
    } else if (existsSync(spec)) {
      sources.push(...(statSync(spec).isDirectory() ? directorySources(spec) : [fileSource(spec)]));
    } else if (GLOB_CHARS.test(spec)) {
      const matches = (await glob(spec, { onlyFiles: true, expandDirectories: false, absolute: isAbsolute(spec) })).sort();
      if (matches.length === 0) throw new DataError(`${spec}: no files match`);
      sources.push(...matches.map(fileSource));
    } else {
      throw new DataError(`${spec}: no such file or directory`);
    }
  }
  return sources;
}

export function fileSource(path: string): InputSource {
  return { name: path, open: () => createReadStream(path, { highWaterMark: 1 << 20 }) };
}

/** A shard directory is read in its manifest's order; without one, its data files sorted by name. */
function directorySources(dir: string): InputSource[] {
  const manifestPath = join(dir, MANIFEST_FILE);
  if (existsSync(manifestPath)) {
    let manifest: ShardManifest;
    try {
      manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as ShardManifest;
    } catch (err) {
      throw new DataError(`${manifestPath}: unreadable manifest: ${(err as Error).message}`);
    }
    if (manifest.format === 'loom.tokens/1') {
      throw new DataError(`${dir}: holds binary token shards, not JSONL; read them with \`loom tokenize decode ${dir}\``);
    }
    if (!Array.isArray(manifest.shards)) throw new DataError(`${manifestPath}: manifest has no "shards" list`);
    return manifest.shards.map((shard) => fileSource(join(dir, shard.file)));
  }
  const files = readdirSync(dir).filter((name) => DATA_FILE.test(name)).sort();
  if (files.length === 0) throw new DataError(`${dir}: directory has no manifest.json and no .jsonl files`);
  return files.map((name) => fileSource(join(dir, name)));
}
