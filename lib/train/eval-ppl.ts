// `loom eval ppl CKPT DATA`: perplexity of a checkpoint on token shards (one split) or on JSONL
// documents, which are encoded with the checkpoint's vocabulary, joined with <|endoftext|> and cut
// into windows exactly as `loom tokenize` packs them.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openBackend } from '../../kernels/index.js';
import { DataError } from '../io/errors.js';
import { readDocs } from '../io/read.js';
import { loadWeights, readCheckpoint } from '../model/checkpoint.js';
import { QwenModel } from '../model/model.js';
import type { Split } from '../tokenizer/token-manifest.js';
import { TokenDataset } from '../tokenizer/token-dataset.js';
import { Tokenizer } from '../tokenizer/tokenizer.js';
import { evaluate, type EvalResult, type WindowSource } from './evaluate.js';

export interface EvalPplOptions {
  checkpoint: string;
  data: string[];
  split: Split;
  device: string;
  batch: number;
  seqLen?: number;
  maxWindows?: number;
}

export async function evalPerplexity(o: EvalPplOptions): Promise<EvalResult & { source: string }> {
  const ckpt = readCheckpoint(o.checkpoint);
  const seqLen = o.seqLen ?? ckpt.config.seqLen;
  const single = o.data.length === 1 ? o.data[0]! : undefined;
  const shards = single !== undefined && single !== '-' && existsSync(join(single, 'manifest.json')) && statSync(single).isDirectory();
  const source: WindowSource = shards
    ? new TokenDataset(single!, { split: o.split, seqLen, vocabHash: ckpt.info.vocab_hash || undefined })
    : await encodeWindows(o.data, ckpt.info.vocab, ckpt.info.vocab_hash, seqLen);
  if (source.windowCount === 0) throw new DataError(`${o.data.join(' ')}: no window of ${seqLen + 1} tokens to evaluate`);
  const k = openBackend(o.device);
  const batch = Math.max(1, Math.min(o.batch, source.windowCount));
  const model = new QwenModel(k, ckpt.config, k.kind === 'cpu' ? 'f32' : 'bf16', batch, seqLen);
  loadWeights(ckpt.dir, model.params);
  try {
    return { ...evaluate(model, source, ckpt.config.vocabSize, o.maxWindows ?? Infinity), source: shards ? `${single} (${o.split})` : o.data.join(' ') };
  } finally {
    source.close?.();
  }
}

async function encodeWindows(inputs: string[], vocab: string, hash: string, seqLen: number): Promise<WindowSource> {
  let tokenizer: Tokenizer;
  try {
    tokenizer = Tokenizer.load({ vocab });
  } catch (err) {
    throw new DataError(`the checkpoint's vocabulary '${vocab}' cannot be loaded to encode text: ${(err as Error).message}`);
  }
  try {
    if (hash && tokenizer.hash !== hash) throw new DataError(`vocabulary '${vocab}' has changed since the checkpoint was trained (hash ${tokenizer.hash.slice(0, 12)}…, expected ${hash.slice(0, 12)}…)`);
    const stream: number[] = [];
    for await (const doc of readDocs(inputs, { onError: 'fail' })) {
      if (typeof doc.text !== 'string' || doc.text.length === 0) continue;
      for (const id of tokenizer.encodeOrdinary(doc.text)) stream.push(id);
      stream.push(tokenizer.eot);
    }
    const tokens = Uint32Array.from(stream);
    return {
      dir: inputs.join(' '),
      seqLen,
      windowCount: Math.max(0, Math.floor((tokens.length - 1) / seqLen)),
      window: (i) => tokens.subarray(i * seqLen, i * seqLen + seqLen + 1),
    };
  } finally {
    tokenizer.free();
  }
}
