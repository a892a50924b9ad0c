// What pretrain reads: a token shard directory as numbered windows per split, each window read
// with one positioned read from its shard. Refuses shards made with another vocabulary.
import { join } from 'node:path';
import { DataError } from '../errors.js';
import { readTokenManifest, type Split, type TokenManifest } from './manifest.js';
import { TokenShardReader } from './format.js';

export interface TokenDatasetOptions {
  split?: Split;
  /** Window length; defaults to the manifest's seq_len (any length works on the flat streams). */
  seqLen?: number;
  /** The model's vocabulary hash: shards made with another vocabulary are refused. */
  vocabHash?: string;
}

export class TokenDataset {
  readonly manifest: TokenManifest;
  readonly seqLen: number;
  readonly windowCount: number;
  private readonly readers: TokenShardReader[] = [];
  /** First global window index of each shard. */
  private readonly starts: number[] = [];

  constructor(readonly dir: string, opts: TokenDatasetOptions = {}) {
    const manifest = readTokenManifest(dir);
    if (!manifest) throw new DataError(`${dir}: no manifest.json; not a token shard directory (write one with \`loom tokenize --out ${dir}\`)`);
    if (!manifest.complete) throw new DataError(`${dir}: the tokenize run is not complete; rerun it to finish`);
    if (opts.vocabHash && opts.vocabHash !== manifest.tokenizer.hash) {
      throw new DataError(`${dir}: shards use vocabulary ${manifest.tokenizer.hash.slice(0, 12)}… (${manifest.tokenizer.vocab}), the model expects ${opts.vocabHash.slice(0, 12)}…; retokenize with the model's vocabulary`);
    }
    this.manifest = manifest;
    this.seqLen = opts.seqLen ?? manifest.seq_len;
    if (!Number.isInteger(this.seqLen) || this.seqLen < 1) throw new RangeError(`seqLen must be a positive integer`);
    let total = 0;
    try {
      for (const shard of manifest.splits[opts.split ?? 'train'].shards) {
        const reader = new TokenShardReader(join(dir, shard.file), { vocabHash: manifest.tokenizer.hash });
        this.readers.push(reader);
        this.starts.push(total);
        total += reader.windowCount(this.seqLen);
      }
    } catch (err) {
      this.close();
      throw err;
    }
    this.windowCount = total;
  }

  /** Window i of the split: seqLen+1 tokens (inputs [0, seqLen), targets [1, seqLen+1)). */
  window(index: number): Uint32Array {
    if (!Number.isInteger(index) || index < 0 || index >= this.windowCount) throw new RangeError(`window ${index} out of range (0…${this.windowCount - 1})`);
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= index) lo = mid;
      else hi = mid - 1;
    }
    return this.readers[lo]!.window(index - this.starts[lo]!, this.seqLen);
  }

  close(): void {
    for (const reader of this.readers) reader.close();
    this.readers.length = 0;
  }
}
