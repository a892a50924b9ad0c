// manifest.json of a token shard directory: which shards each split holds, and everything pretrain
// must check before training on them (vocabulary hash, sizes, sequence length).
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../io/errors.js';
import { MANIFEST_FILE } from '../io/manifest.js';

export const TOKEN_MANIFEST_FORMAT = 'loom.tokens/1';
export type Split = 'train' | 'val';
export const SPLITS: readonly Split[] = ['train', 'val'];

export interface TokenShardEntry {
  file: string;
  tokens: number;
  /** Windows of the manifest's seq_len. */
  windows: number;
  /** Position of the shard's first token in its split's stream (shards overlap by one token). */
  offset: number;
  file_bytes: number;
  sha256: string;
}

export interface TokenManifest {
  format: typeof TOKEN_MANIFEST_FORMAT;
  version: string;
  command: string;
  fingerprint: string;
  complete: boolean;
  created: string;
  updated: string;
  inputs: { path: string; bytes?: number; mtime?: string }[];
  config: Record<string, unknown>;
  seed: number;
  tokenizer: { vocab: string; hash: string; size: number; eot: number; nfc: boolean; pattern: string };
  dtype: 'uint16' | 'uint32';
  header_bytes: number;
  seq_len: number;
  counts: Record<string, number>;
  splits: Record<Split, { tokens: number; windows: number; shards: TokenShardEntry[] }>;
}

export function readTokenManifest(dir: string): TokenManifest | undefined {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) return undefined;
  let manifest: TokenManifest;
  try {
    manifest = JSON.parse(readFileSync(path, 'utf8')) as TokenManifest;
  } catch (err) {
    throw new DataError(`${path}: unreadable manifest: ${(err as Error).message}`);
  }
  if (manifest.format !== TOKEN_MANIFEST_FORMAT) throw new DataError(`${path}: not a token shard manifest (format ${JSON.stringify(manifest.format)}, expected ${TOKEN_MANIFEST_FORMAT})`);
  return manifest;
}

/** Atomic: readers see the old manifest or the new one. */
export function writeTokenManifest(dir: string, manifest: TokenManifest): void {
  const path = join(dir, MANIFEST_FILE);
  writeFileSync(`${path}.tmp`, JSON.stringify(manifest, null, 2) + '\n');
  renameSync(`${path}.tmp`, path);
}
