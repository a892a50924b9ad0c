// `loom eval ppl CKPT DATA`: perplexity of a checkpoint on token shards (one split) or on JSONL
// documents. Documents are encoded with the checkpoint's vocabulary and packed as `loom tokenize`
// packs them (each one preceded by <|endoftext|>, windows of seqLen+1 tokens overlapping by one),
// and evaluated as the windows fill: memory holds one micro-batch whatever the input's size, and
// --max-windows stops reading there.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DataError, UsageError } from '../errors.js';
import { readDocs } from '../io/read.js';
import { readCheckpoint, type LoadedCheckpoint, type LoomModelInfo } from '../model/checkpoint.js';
import { checkpointVocabulary, loadModel } from '../model/load.js';
import type { Trunk } from '../model/trunk.js';
import { StageCounters, type StageContext } from '../stage.js';
import { encodeDocs } from '../tokenizer/encode-docs.js';
import { ENDOFTEXT } from '../tokenizer/special.js';
import type { Split } from '../shards/manifest.js';
import { TokenDataset } from '../shards/dataset.js';
import { evaluate, LossMeter, type EvalResult } from './loss.js';

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
  const maxWindows = o.maxWindows ?? Infinity;
  if (!(maxWindows >= 1)) throw new UsageError('--max-windows must be at least 1');
  if (!Number.isInteger(o.batch) || o.batch < 1) throw new UsageError('--batch must be a positive integer');
  const ckpt = readCheckpoint(o.checkpoint);
  const seqLen = o.seqLen ?? ckpt.config.seqLen;
  const single = o.data.length === 1 ? o.data[0]! : undefined;
  const shards = single !== undefined && single !== '-' && existsSync(join(single, 'manifest.json')) && statSync(single).isDirectory();
  if (!shards) return { ...(await evalDocuments(o, ckpt, seqLen, maxWindows)), source: inputName(o.data) };

  const dataset = new TokenDataset(single!, { split: o.split, seqLen, vocabHash: ckpt.info.vocab_hash || undefined });
  try {
    if (dataset.windowCount === 0) throw new DataError(`${single}: no window of ${seqLen + 1} tokens to evaluate`);
    const rows = Math.min(o.batch, dataset.windowCount, maxWindows);
    return { ...evaluate(evalTrunk(ckpt, o.device, rows * seqLen), rows, dataset, maxWindows), source: `${single} (${o.split})` };
  } finally {
    dataset.close();
  }
}

/**
 * JSONL documents, streamed. The model's batch is fixed by the first windows read (fewer than
 * --batch when the input holds fewer), as the shard path fixes it by the split's window count, so
 * the same tokens give the same figures either way.
 */
async function evalDocuments(o: EvalPplOptions, ckpt: LoadedCheckpoint, seqLen: number, maxWindows: number): Promise<EvalResult> {
  const windows = documentWindows(o.data, ckpt.info, seqLen);
  try {
    const first: Uint32Array[] = [];
    for (let next; first.length < Math.min(o.batch, maxWindows) && !(next = await windows.next()).done; ) first.push(next.value);
    if (first.length === 0) throw new DataError(`${inputName(o.data)}: no window of ${seqLen + 1} tokens to evaluate`);
    const meter = new LossMeter(evalTrunk(ckpt, o.device, first.length * seqLen), first.length, seqLen, `${inputName(o.data)} (${seqLen})`);
    for (const window of first) meter.add(window);
    for (let next; meter.windows < maxWindows && !(next = await windows.next()).done; ) meter.add(next.value);
    return meter.result();
  } finally {
    // Closes the input files when --max-windows stops early or evaluation fails.
    await windows.return(undefined);
  }
}

/** The inputs as messages name them; stdin as `-`. */
function inputName(data: string[]): string {
  return data.join(' ') || '-';
}

/** The checkpoint's trunk and LM head, inference weights only (bf16 on a GPU). */
function evalTrunk(ckpt: LoadedCheckpoint, device: string, capacity: number): Trunk {
  if (ckpt.head !== 'lm') throw new DataError(`${ckpt.dir}: a ${ckpt.head} model has no LM head to measure perplexity with`);
  return loadModel(ckpt, { device, capacity }).trunk;
}

/** JSONL text encoded as the checkpoint's shards were (same vocabulary, same NFC setting), cut into windows. */
async function* documentWindows(inputs: string[], info: LoomModelInfo, seqLen: number): AsyncGenerator<Uint32Array, void> {
  const vocab = checkpointVocabulary(info);
  const vocabName = info.vocab;
  // Documents with empty text are skipped, as `loom tokenize` drops them; nothing else is counted.
  const ctx: StageContext = { name: 'eval ppl', counters: new StageCounters(), count: () => {}, drop: () => {} };
  const docs = readDocs(inputs, { onError: 'fail' });
  const cutter = new WindowCutter(seqLen);
  const separator = Uint32Array.of(vocab.specials[ENDOFTEXT]!);
  for await (const [, ids] of encodeDocs(docs, { workers: 0, vocab: { vocab: vocabName }, nfc: info.nfc, onError: 'fail' }, ctx)) {
    yield* cutter.push(separator);
    yield* cutter.push(ids);
  }
}

/**
 * Cuts a token stream that arrives in pieces into windows of seqLen+1 tokens, each starting with
 * the last token of the one before: the windows TokenDataset reads from shards of the same stream.
 */
class WindowCutter {
  private window: Uint32Array;
  private filled = 0;

  constructor(private readonly seqLen: number) {
    this.window = new Uint32Array(seqLen + 1);
  }

  *push(tokens: Uint32Array): Generator<Uint32Array> {
    for (let at = 0; at < tokens.length; ) {
      const n = Math.min(tokens.length - at, this.window.length - this.filled);
      this.window.set(tokens.subarray(at, at + n), this.filled);
      this.filled += n;
      at += n;
      if (this.filled === this.window.length) {
        const full = this.window;
        this.window = new Uint32Array(this.seqLen + 1);
        this.window[0] = full[this.seqLen]!;
        this.filled = 1;
        yield full;
      }
    }
  }
}
