// `loom eval ppl CKPT DATA`: perplexity of a checkpoint on token shards (one split) or on JSONL
// documents. Documents are encoded with the checkpoint's vocabulary and packed as `loom tokenize`
// packs them (each one preceded by <|endoftext|>, windows of seqLen+1 tokens overlapping by one),
// and evaluated as the windows fill: memory holds one micro-batch whatever the input's size, and
// --max-windows stops reading there. `--lengths` measures perplexity against context length on
// documents long enough for each, with each long-context switch on and off (docs/long-context.md).
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DataError, UsageError } from '../errors.js';
import { readDocs } from '../io/read.js';
import { readCheckpoint, type LoadedCheckpoint, type LoomModelInfo } from '../model/checkpoint.js';
import { activeLongContext, type LongContextSwitches } from '../model/config.js';
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
  /** Long-context switches; by default the means are on when seqLen is beyond the training length. */
  longContext?: LongContextSwitches;
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
    return { ...evaluate(evalTrunk(ckpt, o.device, rows * seqLen, seqLen, o.longContext), rows, dataset, maxWindows), source: `${single} (${o.split})` };
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
    const meter = new LossMeter(evalTrunk(ckpt, o.device, first.length * seqLen, seqLen, o.longContext), first.length, seqLen, `${inputName(o.data)} (${seqLen})`);
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

/** The checkpoint's trunk and LM head, inference weights only (bf16 on a GPU), with the long-context means a window of `seqLen` calls for. */
function evalTrunk(ckpt: LoadedCheckpoint, device: string, capacity: number, seqLen: number, switches?: LongContextSwitches): Trunk {
  if (ckpt.head !== 'lm') throw new DataError(`${ckpt.dir}: a ${ckpt.head} model has no LM head to measure perplexity with`);
  const trunk = loadModel(ckpt, { device, capacity }).trunk;
  trunk.longContext = activeLongContext(ckpt.config, seqLen, switches);
  return trunk;
}

/** JSONL text encoded as the checkpoint's shards were (same vocabulary, same NFC setting), cut into windows. */
async function* documentWindows(inputs: string[], info: LoomModelInfo, seqLen: number): AsyncGenerator<Uint32Array, void> {
  const cutter = new WindowCutter(seqLen);
  for await (const [separator, ids] of documentTokens(inputs, info)) {
    yield* cutter.push(separator);
    yield* cutter.push(ids);
  }
}

/** Each JSONL document's tokens, as the shards hold them: <|endoftext|>, then its text encoded. */
async function* documentTokens(inputs: string[], info: LoomModelInfo): AsyncGenerator<[Uint32Array, Uint32Array], void> {
  const vocab = checkpointVocabulary(info);
  // Documents with empty text are skipped, as `loom tokenize` drops them; nothing else is counted.
  const ctx: StageContext = { name: 'eval ppl', counters: new StageCounters(), count: () => {}, drop: () => {} };
  const docs = readDocs(inputs, { onError: 'fail' });
  const separator = Uint32Array.of(vocab.specials[ENDOFTEXT]!);
  for await (const [, ids] of encodeDocs(docs, { workers: 0, vocab: { vocab: info.vocab }, nfc: info.nfc, onError: 'fail' }, ctx)) yield [separator, ids];
}

/** The settings `--lengths` compares: none, each long-context means alone, all three. */
export const LENGTH_SETTINGS = [
  { name: 'plain', switches: { dynamicNtk: false, logn: false, windows: false } },
  { name: 'dynamic NTK', switches: { dynamicNtk: true, logn: false, windows: false } },
  { name: 'LogN', switches: { dynamicNtk: false, logn: true, windows: false } },
  { name: 'windows', switches: { dynamicNtk: false, logn: false, windows: true } },
  { name: 'all three', switches: { dynamicNtk: true, logn: true, windows: true } },
] as const satisfies readonly { name: string; switches: LongContextSwitches }[];

export interface EvalLengthsOptions {
  checkpoint: string;
  /** JSONL files with a "text" field */
  data: string[];
  device: string;
  batch: number;
  lengths: number[];
  /** Most windows evaluated at each length. */
  maxWindows?: number;
  /** The attention window of each layer for the settings with windows (default: the checkpoint's, else loom's layer-wise default). */
  windows?: readonly number[];
}

export interface LengthResult extends EvalResult {
  length: number;
  setting: string;
}

/**
 * Perplexity against context length: at each length L, every document of at least L+1 tokens
 * (with its leading <|endoftext|>) is cut from its start into windows of L+1 tokens overlapping by
 * one, so positions run 0…L−1 in every window; each setting of LENGTH_SETTINGS scores the same windows.
 */
export async function evalLengths(o: EvalLengthsOptions): Promise<LengthResult[]> {
  if (o.lengths.length === 0 || !o.lengths.every((L) => Number.isInteger(L) && L >= 1)) throw new UsageError(`--lengths must be whole numbers ≥ 1, got ${o.lengths.join(',')}`);
  if (!Number.isInteger(o.batch) || o.batch < 1) throw new UsageError('--batch must be a positive integer');
  const maxWindows = o.maxWindows ?? Infinity;
  if (!(maxWindows >= 1)) throw new UsageError('--max-windows must be at least 1');
  const ckpt = readCheckpoint(o.checkpoint);
  const docs: Uint32Array[] = [];
  for await (const [separator, ids] of documentTokens(o.data, ckpt.info)) {
    const doc = new Uint32Array(ids.length + 1);
    doc.set(separator);
    doc.set(ids, 1);
    docs.push(doc);
  }
  const longest = Math.max(...o.lengths);
  const trunk = evalTrunk(ckpt, o.device, Math.min(o.batch, Math.max(1, windowsAt(docs, longest, maxWindows).length)) * longest, longest);
  const results: LengthResult[] = [];
  for (const L of o.lengths) {
    const windows = windowsAt(docs, L, maxWindows);
    if (windows.length === 0) throw new DataError(`${inputName(o.data)}: no document has the ${L + 1} tokens a window of length ${L} needs`);
    const rows = Math.min(o.batch, windows.length, Math.floor(trunk.capacity / L));
    for (const { name, switches } of LENGTH_SETTINGS) {
      trunk.longContext = activeLongContext(ckpt.config, L, { ...switches, ...(o.windows && switches.windows ? { windows: o.windows } : {}) });
      const meter = new LossMeter(trunk, rows, L, `${inputName(o.data)} (${L})`);
      for (const w of windows) meter.add(w);
      results.push({ length: L, setting: name, ...meter.result() });
    }
  }
  return results;
}

/** Windows of L+1 tokens from each document's start, overlapping by one, the first `max` of them. */
function windowsAt(docs: readonly Uint32Array[], L: number, max: number): Uint32Array[] {
  const out: Uint32Array[] = [];
  for (const doc of docs)
    for (let at = 0; at + L + 1 <= doc.length && out.length < max; at += L) out.push(doc.subarray(at, at + L + 1));
  return out;
}

/** Perplexity by setting (rows) and length (columns), Qwen's long-context table. */
export function lengthsTable(results: readonly LengthResult[], trainLength: number): string {
  const lengths = [...new Set(results.map((r) => r.length))];
  const cell = (r: LengthResult | undefined) => (r ? r.ppl.toFixed(r.ppl < 1000 ? 2 : 0) : '-');
  const rows = [
    ['perplexity', ...lengths.map((L) => `${L}${L === trainLength ? ' (trained)' : ''}`)],
    ...LENGTH_SETTINGS.map(({ name }) => [name, ...lengths.map((L) => cell(results.find((r) => r.length === L && r.setting === name)))]),
    ['tokens', ...lengths.map((L) => String(results.find((r) => r.length === L)?.tokens ?? 0))],
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!))).join('  ')).join('\n') + '\n';
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
