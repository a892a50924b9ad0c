// `.tiktoken` rank files: one `base64(token bytes) rank` line per token, the format tiktoken and
// Qwen ship. Ranks must run 0…n-1 without gaps (cl100k's and Qwen's do): the rank is the token id.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gunzipSync } from 'node:zlib';
import { DataError } from '../errors.js';
import { CL100K_PATTERN } from './pattern.js';

/** Parses a rank file into token bytes indexed by rank. */
export function parseRanks(text: string, source = '<ranks>'): Uint8Array[] {
  const tokens: Uint8Array[] = [];
  let lineNo = 0;
  for (const line of text.split('\n')) {
    lineNo += 1;
    if (line.trim() === '') continue;
    const [b64, rankText, extra] = line.trim().split(/\s+/);
    const rank = Number(rankText);
    if (!b64 || extra !== undefined || !Number.isInteger(rank) || rank < 0) {
      throw new DataError('expected "base64-token rank"', { file: source, line: lineNo });
    }
    if (rank !== tokens.length) {
      throw new DataError(`rank ${rank} out of sequence (expected ${tokens.length}); ranks must run 0…n-1`, { file: source, line: lineNo });
    }
    tokens.push(new Uint8Array(Buffer.from(b64, 'base64')));
  }
  if (tokens.length < 256) throw new DataError(`${source}: only ${tokens.length} tokens; a byte-level vocabulary needs at least the 256 bytes`);
  return tokens;
}

export function formatRanks(tokens: readonly Uint8Array[]): string {
  let out = '';
  for (let rank = 0; rank < tokens.length; rank++) out += `${Buffer.from(tokens[rank]!).toString('base64')} ${rank}\n`;
  return out;
}

/** Reads a `.tiktoken` file, gzip-compressed or not (detected by magic bytes); also returns its text. */
export function readRankFile(path: string): { tokens: Uint8Array[]; text: string } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new DataError(`${path}: cannot read vocabulary: ${(err as Error).message}`);
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
  const text = bytes.toString('latin1');
  return { tokens: parseRanks(text, path), text };
}

export interface RankTable {
  tokens: Uint8Array[];
  specials: Record<string, number>;
  pattern: string;
}

/**
 * cl100k_base from the copy inside the `tiktoken` npm package (no download). The package stores it
 * as `! 0 tok tok …`: a start rank followed by consecutive base64 tokens.
 */
export function cl100kRanks(): RankTable {
  const path = createRequire(import.meta.url).resolve('tiktoken/encoders/cl100k_base.json');
  const data = JSON.parse(readFileSync(path, 'utf8')) as { bpe_ranks: string; special_tokens: Record<string, number>; pat_str: string };
  const tokens: Uint8Array[] = [];
  for (const line of data.bpe_ranks.split('\n')) {
    const [marker, start, ...rest] = line.split(' ');
    if (marker !== '!' || Number(start) !== tokens.length) throw new Error(`${path}: unexpected bpe_ranks layout`);
    for (const b64 of rest) tokens.push(new Uint8Array(Buffer.from(b64, 'base64')));
  }
  if (data.pat_str !== CL100K_PATTERN) throw new Error(`${path}: cl100k pattern differs from the one loom knows`);
  return { tokens, specials: data.special_tokens, pattern: data.pat_str };
}

/** True for cl100k's 1,100 tokens of two or three ASCII digits, which Qwen dropped. */
export function isMultiDigit(token: Uint8Array): boolean {
  if (token.length < 2) return false;
  for (const byte of token) if (byte < 0x30 || byte > 0x39) return false;
  return true;
}

/** Qwen's base: cl100k's ranks in order, without the multi-digit tokens, renumbered 0…n-1. */
export function qwenBaseTokens(): Uint8Array[] {
  return cl100kRanks().tokens.filter((token) => !isMultiDigit(token));
}
