// Token shards and token records back to text (`loom tokenize decode`).
import { join } from 'node:path';
import { DataError } from '../errors.js';
import { locationOf } from '../io/location.js';
import type { Doc } from '../io/types.js';
import { defineStage } from '../stage.js';
import { readTokenManifest, type Split } from '../shards/manifest.js';
import { TokenShardReader } from '../shards/format.js';
import type { Tokenizer } from './tokenizer.js';

const READ_TOKENS = 1 << 20;

/**
 * The documents of a token stream: the text between <|endoftext|> tokens. A directory's split is
 * one stream over its shards (each shard after the first repeats the previous one's last token,
 * which is skipped); a single .bin file is its own stream.
 */
export async function* decodeTokenShards(path: string, split: Split, tokenizer: Tokenizer): AsyncGenerator<Doc> {
  const manifest = readTokenManifest(path);
  const files = manifest ? manifest.splits[split].shards.map((s) => join(path, s.file)) : [path];
  if (manifest && manifest.tokenizer.hash !== tokenizer.hash) {
    throw new DataError(`${path}: shards use vocabulary ${manifest.tokenizer.vocab} (${manifest.tokenizer.hash.slice(0, 12)}…); pass it with --vocab`);
  }
  let current: number[] = [];
  let started = false;
  let index = 0;
  for (const [i, file] of files.entries()) {
    const reader = new TokenShardReader(file, { vocabHash: tokenizer.hash });
    try {
      for (let at = i > 0 && manifest ? 1 : 0; at < reader.tokenCount; at += READ_TOKENS) {
        const tokens = reader.read(at, Math.min(READ_TOKENS, reader.tokenCount - at));
        for (const token of tokens) {
          if (token !== tokenizer.eot) {
            current.push(token);
            continue;
          }
          if (started || current.length > 0) yield { text: tokenizer.decode(current), split, doc: index++ };
          started = true;
          current = [];
        }
      }
    } finally {
      reader.close();
    }
  }
  if (current.length > 0) yield { text: tokenizer.decode(current), split, doc: index };
}

/** Records with `tokens` (as `tokenize --format jsonl` writes them) get their `text` back. */
export const decodeTokenRecords = defineStage<{ tokenizer?: Tokenizer }>('decode', {}, async function* (docs, opts, ctx) {
  for await (const doc of docs) {
    const tokens = doc.tokens;
    if (!Array.isArray(tokens) || !tokens.every((t) => Number.isInteger(t) && t >= 0)) {
      throw new DataError('expected "tokens": an array of token ids', locationOf(doc));
    }
    let text: string;
    try {
      text = opts.tokenizer!.decode(tokens as number[]);
    } catch (err) {
      throw new DataError((err as Error).message, locationOf(doc));
    }
    const { tokens: _tokens, ...rest } = doc;
    ctx.count('tokens', tokens.length);
    yield { ...rest, text };
  }
});
