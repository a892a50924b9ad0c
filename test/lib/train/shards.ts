// Test data: a token shard directory written with the tokenizer's own writer and manifest, from
// a token stream the test chooses (no tokenizer involved, so any small vocabulary works).
import { mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { SplitWriter } from '../../../lib/shards/writer.js';
import { writeManifest } from '../../../lib/io/manifest.js';
import { TOKEN_MANIFEST_FORMAT, type Split, type TokenManifest, type TokenShardEntry } from '../../../lib/shards/manifest.js';
import { createRandom } from '../../../lib/util/random.js';

export interface ShardSpec {
  vocab: number;
  seqLen: number;
  train: Uint32Array;
  val: Uint32Array;
  /** Any string: its sha256 is the vocabulary hash. */
  vocabName?: string;
}

export function vocabHashOf(name: string): string {
  return createHash('sha256').update(name).digest('hex');
}

export function writeShards(dir: string, spec: ShardSpec): string {
  mkdirSync(dir, { recursive: true });
  const name = spec.vocabName ?? 'test-vocab';
  const hash = vocabHashOf(name);
  const splits = {} as TokenManifest['splits'];
  for (const split of ['train', 'val'] as Split[]) {
    const shards: TokenShardEntry[] = [];
    const writer = new SplitWriter({ dir, split, seqLen: spec.seqLen, windowsPerShard: 4, vocabSize: spec.vocab, vocabHash: hash, eot: spec.vocab - 1, done: [], onShard: (e) => shards.push(e) });
    writer.append(spec[split]);
    writer.finish();
    splits[split] = { tokens: spec[split].length, windows: shards.reduce((a, s) => a + s.windows, 0), shards };
  }
  const now = new Date().toISOString();
  writeManifest(dir, {
    format: TOKEN_MANIFEST_FORMAT,
    version: 'test',
    command: 'test',
    fingerprint: 'test',
    complete: true,
    created: now,
    updated: now,
    inputs: [],
    config: {},
    seed: 0,
    tokenizer: { vocab: name, hash, size: spec.vocab, eot: spec.vocab - 1, nfc: true, pattern: '' },
    dtype: 'uint16',
    header_bytes: 256,
    seq_len: spec.seqLen,
    counts: {},
    splits,
  });
  return hash;
}

/**
 * A learnable stream: sentences drawn from a few fixed token sequences, separated by the
 * end-of-text id; a model that memorizes the sentences predicts most next tokens.
 */
export function patternStream(vocab: number, length: number, seed: number, sentences = 6, sentenceLength = 9): Uint32Array {
  const r = createRandom(1234);
  const table = Array.from({ length: sentences }, () => Array.from({ length: sentenceLength }, () => r.int(vocab - 1)));
  const pick = createRandom(seed);
  const out: number[] = [];
  while (out.length < length) out.push(...table[pick.int(sentences)]!, vocab - 1);
  return Uint32Array.from(out.slice(0, length));
}
