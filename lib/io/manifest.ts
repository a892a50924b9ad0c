import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../errors.js';

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_FORMAT = 'loom.shards/1';

export interface ShardEntry {
  file: string;
  records: number;
  /** Uncompressed JSONL bytes written into this shard. */
  bytes: number;
  /** Size on disk (compressed). */
  file_bytes: number;
  sha256: string;
  /** sha256 of the uncompressed JSONL, so a resumed run can check its input is the same. */
  content_sha256?: string;
}

/** What every resumable output directory's manifest.json records about the run that wrote it. */
export interface RunManifest {
  format: string;
  version: string;
  command: string;
  fingerprint: string;
  complete: boolean;
  created: string;
  updated: string;
  inputs: { path: string; bytes?: number; mtime?: string }[];
  config: Record<string, unknown>;
  seed?: number;
  counts: Record<string, number>;
}

export interface ShardManifest extends RunManifest {
  shards: ShardEntry[];
  [extra: string]: unknown;
}

/** Identifies "the same run": same command, resolved config and inputs (by name, size, mtime). */
export function runFingerprint(command: string, config: Record<string, unknown>, inputs: ShardManifest['inputs']): string {
  return createHash('sha256').update(JSON.stringify({ command, config, inputs })).digest('hex');
}

export function readManifest<M extends RunManifest = ShardManifest>(dir: string): M | undefined {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as M;
  } catch (err) {
    throw new DataError(`${path}: unreadable manifest: ${(err as Error).message}`);
  }
}

/** Atomic: a reader sees the old manifest or the new one, never half of one. */
export function writeManifest<M extends RunManifest>(dir: string, manifest: M): void {
  const path = join(dir, MANIFEST_FILE);
  writeFileSync(`${path}.tmp`, JSON.stringify(manifest, null, 2) + '\n');
  renameSync(`${path}.tmp`, path);
}

/** Finished shards a manifest lists are trusted only while their files are there with the recorded size. */
export function verifiedShards<S extends { file: string; file_bytes: number }>(dir: string, shards: readonly S[]): S[] {
  const kept: S[] = [];
  for (const shard of shards) {
    const path = join(dir, shard.file);
    if (!existsSync(path) || statSync(path).size !== shard.file_bytes) break;
    kept.push(shard);
  }
  return kept;
}

/** Half-written files of an interrupted run; no manifest lists them. */
export function removeStaleTemporaries(dir: string): void {
  for (const name of readdirSync(dir)) if (name.endsWith('.tmp')) unlinkSync(join(dir, name));
}
