import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from './errors.js';

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
}

export interface ShardManifest {
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
  shards: ShardEntry[];
  [extra: string]: unknown;
}

/** Identifies "the same run": same command, resolved config and inputs (by name, size, mtime). */
export function runFingerprint(command: string, config: Record<string, unknown>, inputs: ShardManifest['inputs']): string {
  return createHash('sha256').update(JSON.stringify({ command, config, inputs })).digest('hex');
}

export function readManifest(dir: string): ShardManifest | undefined {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as ShardManifest;
  } catch (err) {
    throw new DataError(`${path}: unreadable manifest: ${(err as Error).message}`);
  }
}

/** Atomic: a reader sees the old manifest or the new one, never half of one. */
export function writeManifest(dir: string, manifest: ShardManifest): void {
  const path = join(dir, MANIFEST_FILE);
  writeFileSync(`${path}.tmp`, JSON.stringify(manifest, null, 2) + '\n');
  renameSync(`${path}.tmp`, path);
}
