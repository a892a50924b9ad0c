// manifest.json of a token shard directory: which shards each split holds, and everything pretrain
// must check before training on them (vocabulary hash, sizes, sequence length).
import { join } from 'node:path';
import { DataError } from '../errors.js';
import { MANIFEST_FILE, readManifest, type RunManifest } from '../io/manifest.js';

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
  /** sha256 of the split's token stream up to this shard's end (uint32 LE), so a resumed run can check its input. */
  stream_sha256?: string;
}

export interface TokenManifest extends RunManifest {
  format: typeof TOKEN_MANIFEST_FORMAT;
  seed: number;
  tokenizer: { vocab: string; hash: string; size: number; eot: number; nfc: boolean; pattern: string };
  dtype: 'uint16' | 'uint32';
  header_bytes: number;
  seq_len: number;
  splits: Record<Split, { tokens: number; windows: number; shards: TokenShardEntry[] }>;
}

export function readTokenManifest(dir: string): TokenManifest | undefined {
  const manifest = readManifest<TokenManifest>(dir);
  if (manifest && manifest.format !== TOKEN_MANIFEST_FORMAT) {
    throw new DataError(`${join(dir, MANIFEST_FILE)}: not a token shard manifest (format ${JSON.stringify(manifest.format)}, expected ${TOKEN_MANIFEST_FORMAT})`);
  }
  return manifest;
}
