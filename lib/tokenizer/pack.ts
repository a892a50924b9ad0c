// Documents → binary token shards for pretraining (`loom tokenize --out DIR`):
//   encode (workers) → split by document into train/val (seeded) → per split, a bounded seeded
//   shuffle buffer → each document as <|endoftext|> + its tokens → flat stream cut into shards of
//   k·seq_len+1 tokens (lib/shards/format.ts). The order of documents in the stream depends only on the
//   input, --seed and the buffer size, never on --workers.
import { mkdirSync } from 'node:fs';
import { removeStaleTemporaries, verifiedShards, writeManifest } from '../io/manifest.js';
import { UsageError } from '../errors.js';
import type { Doc } from '../io/types.js';
import { defineStage, type StageRun } from '../stage.js';
import { createRandom } from '../util/random.js';
import { VERSION } from '../version.js';
import { encodeDocs, type EncodeDocsOptions } from './encode-docs.js';
import { ShuffleBuffer } from './shuffle.js';
import { readTokenManifest, SPLITS, TOKEN_MANIFEST_FORMAT, type Split, type TokenManifest } from '../shards/manifest.js';
import { bytesPerTokenFor, HEADER_BYTES } from '../shards/format.js';
import { SplitWriter } from '../shards/writer.js';
import { loadVocabulary, vocabularyHash, vocabularySize } from './vocabulary.js';
import { ENDOFTEXT } from './special.js';

export interface PackOptions extends EncodeDocsOptions {
  out: string;
  seqLen: number;
  valFraction: number;
  /** Documents held by each split's shuffle buffer (1: no shuffling). */
  shuffleBuffer: number;
  windowsPerShard: number;
  seed: number;
  run: Pick<TokenManifest, 'command' | 'fingerprint' | 'inputs' | 'config'>;
}

export interface PackResult {
  manifest: TokenManifest;
  alreadyComplete: boolean;
  /** Shards kept from an interrupted earlier run. */
  resumedShards: number;
}

export function checkPackOptions(opts: Pick<PackOptions, 'seqLen' | 'valFraction' | 'shuffleBuffer' | 'windowsPerShard'>): void {
  if (!Number.isInteger(opts.seqLen) || opts.seqLen < 1) throw new UsageError('--seq-len must be a positive integer');
  if (!(opts.valFraction >= 0 && opts.valFraction < 1)) throw new UsageError('--val-fraction must be in [0, 1)');
  if (!Number.isInteger(opts.shuffleBuffer) || opts.shuffleBuffer < 1) throw new UsageError('--shuffle-buffer must be a positive integer');
  if (!Number.isInteger(opts.windowsPerShard) || opts.windowsPerShard < 1) throw new UsageError('--shard-windows must be a positive integer');
}

/**
 * Returns the stage run (for progress and drop counters) and the promise of the written manifest.
 */
export function packTokens(docs: AsyncIterable<Doc>, opts: PackOptions & { rejects?: import('../io/rejects.js').RejectSink }): { stage: StageRun; done: Promise<PackResult> } {
  checkPackOptions(opts);
  const previous = readTokenManifest(opts.out);
  if (previous && previous.fingerprint !== opts.run.fingerprint) {
    throw new UsageError(`${opts.out} holds the output of a different run (its manifest.json has other arguments or inputs); remove it or choose another --out`);
  }
  mkdirSync(opts.out, { recursive: true });
  const vocab = loadVocabulary(opts.vocab);
  const hash = vocabularyHash(vocab);
  const size = vocabularySize(vocab);
  const eot = vocab.specials[ENDOFTEXT]!;
  const now = new Date().toISOString();
  const manifest: TokenManifest = previous ?? {
    format: TOKEN_MANIFEST_FORMAT,
    version: VERSION,
    ...opts.run,
    complete: false,
    created: now,
    updated: now,
    seed: opts.seed,
    tokenizer: { vocab: vocab.name, hash, size, eot, nfc: opts.nfc, pattern: vocab.pattern },
    dtype: bytesPerTokenFor(size) === 2 ? 'uint16' : 'uint32',
    header_bytes: HEADER_BYTES,
    seq_len: opts.seqLen,
    counts: {},
    splits: { train: { tokens: 0, windows: 0, shards: [] }, val: { tokens: 0, windows: 0, shards: [] } },
  };

  const counts = { documents: 0, train_documents: 0, val_documents: 0, train_tokens: 0, val_tokens: 0 };
  // File inputs are identified by the fingerprint; stdin is not, so a finished run fed stdin again
  // re-encodes it and checks the tokens against the finished shards instead of trusting it.
  const fromStdin = opts.run.inputs.some((input) => input.path === '-');
  const wasComplete = manifest.complete;
  const stage = defineStage('tokenize', opts, async function* (input, stageOpts, ctx) {
    if (wasComplete && !fromStdin) return;
    removeStaleTemporaries(opts.out);
    const writers = {} as Record<Split, SplitWriter>;
    const buffers = {} as Record<Split, ShuffleBuffer<Uint32Array>>;
    SPLITS.forEach((split, i) => {
      const done = verifiedShards(opts.out, manifest.splits[split].shards);
      manifest.splits[split].shards = done;
      buffers[split] = new ShuffleBuffer(opts.shuffleBuffer, opts.seed + 1 + i);
      writers[split] = new SplitWriter({
        dir: opts.out,
        split,
        seqLen: opts.seqLen,
        windowsPerShard: opts.windowsPerShard,
        vocabSize: size,
        vocabHash: hash,
        eot,
        done,
        complete: wasComplete,
        onShard: (entry) => {
          manifest.splits[split].shards.push(entry);
          saveManifest(manifest, opts.out, counts, false);
        },
      });
    });
    const write = (split: Split, ids: Uint32Array) => {
      writers[split].append([eot]);
      writers[split].append(ids);
      counts[`${split}_tokens`] += ids.length + 1;
    };
    const random = createRandom(opts.seed);
    for await (const [, ids] of encodeDocs(input, stageOpts, ctx)) {
      const split: Split = random.next() < opts.valFraction ? 'val' : 'train';
      counts.documents += 1;
      counts[`${split}_documents`] += 1;
      ctx.count('tokens', ids.length + 1);
      const evicted = buffers[split].push(ids);
      if (evicted) write(split, evicted);
    }
    for (const split of SPLITS) {
      for (const ids of buffers[split].drain()) write(split, ids);
      writers[split].finish();
    }
    if (!wasComplete) saveManifest(manifest, opts.out, counts, true);
  });
  const run = stage(docs, { rejects: opts.rejects });
  const resumedShards = manifest.splits.train.shards.length + manifest.splits.val.shards.length;
  const done = (async (): Promise<PackResult> => {
    const alreadyComplete = manifest.complete;
    for await (const _ of run);
    return { manifest, alreadyComplete, resumedShards: alreadyComplete ? 0 : resumedShards };
  })();
  return { stage: run, done };
}

function saveManifest(manifest: TokenManifest, dir: string, counts: Record<string, number>, complete: boolean): void {
  for (const split of SPLITS) {
    const entry = manifest.splits[split];
    const last = entry.shards[entry.shards.length - 1];
    entry.tokens = last ? last.offset + last.tokens : 0;
    entry.windows = entry.shards.reduce((n, shard) => n + shard.windows, 0);
  }
  manifest.counts = { ...counts };
  manifest.complete = complete;
  manifest.updated = new Date().toISOString();
  writeManifest(dir, manifest);
}
