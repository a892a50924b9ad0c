// The generate engine: a KV cache of `maxBatch` sequence slots, prompts prefilled together in one
// packed pass (attention kept inside each prompt), then one token per sequence per step for every
// running sequence at once. When a sequence ends, the next waiting prompt takes its slot
// (continuous batching). On a GPU each decode step's kernels, sampling included, are recorded once
// per batch size as a graph and replayed: the only host work a step is one upload of the rows'
// inputs and one download of the drawn tokens.
import { packSampleRows, SAMPLE_ROW_WORDS, Tensor, type Backend, type Graph, type SampleRow } from '../../kernels/index.js';
import { concat } from '../chat/turns.js';
import { DataError } from '../errors.js';
import { headDim, ntkBase, type LongContext, type ModelConfig } from '../model/config.js';
import { pickRows } from '../model/lm-head.js';
import type { KvCache, Trunk } from '../model/trunk.js';
import type { Weights } from '../model/weights.js';
import type { Generation, GenerationRequest, GenerateEngine } from './types.js';

/** What the engine runs on: a loaded model (lib/model/load.ts) or a trainer's trunk. */
export interface EngineModel {
  k: Backend;
  weights: Weights;
  /** Its capacity is the most prompt tokens one prefill pass takes (longer prompts go in chunks). */
  trunk: Trunk;
}

export interface EngineOptions {
  /** Sequences decoded together (KV cache slots). */
  maxBatch: number;
  /** Most tokens, prompt and new, one sequence holds. */
  contextLength: number;
  /** Record decode steps as CUDA graphs (default: on a GPU). */
  graphs?: boolean;
  /**
   * Long-context inference (config.ts activeLongContext for the context length): dynamic NTK, where
   * each new token takes the base of its sequence's length (cached keys keep theirs), LogN, windows.
   */
  longContext?: LongContext | null;
  /**
   * Tokens are drawn from the first `vocabIds` rows of the LM head only (default: all of them): a
   * table padded past its tokenizer (Qwen's 151,936 rows for 151,851 ids) has rows that are no token,
   * and a weakly trained model draws them.
   */
  vocabIds?: number;
  /**
   * A sequence's tokens and log-probabilities, to the bit, do not depend on the batch: each prompt
   * is prefilled in a pass of its own, and decode steps run in the kernels' batch-invariant mode
   * (Backend.batchInvariant). Costs prefill throughput on many short prompts; the CPU engine is
   * invariant either way.
   */
  batchInvariant?: boolean;
}

interface Sequence {
  request: GenerationRequest;
  resolve: (g: Generation) => void;
  reject: (err: Error) => void;
  slot: number;
  /** Tokens so far, prompt and new (the last one not yet in the cache). */
  length: number;
  last: number;
  out: Generation;
}

const HEAD = 'lm_head.weight';
/** int32 words of a decode step's inputs per row before its sample row: id, position, slot, rotary base. */
const STEP_WORDS = 4;

export function createEngine(model: EngineModel, opts: EngineOptions): Engine {
  return new Engine(model, opts);
}

export class Engine implements GenerateEngine {
  readonly contextLength: number;
  /** Bytes of the KV cache (keys and values of every layer and slot). */
  readonly cacheBytes: number;
  private readonly k: Backend;
  private readonly config: ModelConfig;
  private readonly trunk: Trunk;
  private readonly slots: number;
  private readonly cache: KvCache;
  /** int32 [slots, contextLength]: each slot's tokens, for the repetition penalty (the sampler appends). */
  private readonly history: Tensor;
  /** int32 step inputs, one upload: ids | positions | slots | rotary bases (fp32 bits) | sample rows, each for `slots` rows. */
  private readonly stepIn: Tensor;
  private readonly stepHost: Int32Array<ArrayBuffer>;
  /** int32 prefill inputs, allocated once: each token's slot and position, a chunk's row slot and start, sample rows. */
  private readonly prefillIn: { slot: Tensor; position: Tensor; rowSlot: Tensor; rowStart: Tensor; rows: Tensor };
  /** The LM head's rows of the ids a token can be drawn from. */
  private readonly head: Tensor;
  /** int32 [2 · slots]: the drawn tokens, then their log-probabilities (fp32 bits), read back in one copy */
  private readonly out: Tensor;
  private readonly drawn: Tensor;
  private readonly logprobs: Tensor;
  private readonly graphs = new Map<number, Graph>();
  private readonly warmed = new Set<number>();
  private readonly useGraphs: boolean;
  private readonly longContext: LongContext | null;
  /** EngineOptions.batchInvariant */
  private readonly invariant: boolean;
  private stream = 0;
  private readonly waiting: Sequence[] = [];
  private readonly running: (Sequence | null)[];
  /** The tokens a free slot's cache holds from its last sequence, when that one asked to be reused (reusePrefix). */
  private readonly cached: (Int32Array | null)[];
  private pumping = false;
  private closed = false;

  constructor(model: EngineModel, o: EngineOptions) {
    const { k, trunk } = model;
    const c = trunk.config;
    if (!(Number.isInteger(o.maxBatch) && o.maxBatch >= 1)) throw new Error(`generate: the batch must be a positive integer, got ${o.maxBatch}`);
    if (!(Number.isInteger(o.contextLength) && o.contextLength >= 2)) throw new Error(`generate: the context must be at least 2 tokens, got ${o.contextLength}`);
    if (trunk.capacity < o.maxBatch) throw new Error(`generate: the model's pass holds ${trunk.capacity} tokens, fewer than the ${o.maxBatch} sequences of a decode step`);
    const vocabIds = o.vocabIds ?? c.vocabSize;
    if (!(Number.isInteger(vocabIds) && vocabIds >= 1 && vocabIds <= c.vocabSize)) throw new Error(`generate: ${vocabIds} token ids do not fit the model's ${c.vocabSize} rows`);
    this.k = k;
    this.config = c;
    this.head = trunk.weights.w(HEAD).rows(0, vocabIds);
    this.trunk = trunk;
    this.slots = o.maxBatch;
    this.contextLength = o.contextLength;
    const shape = [this.slots, this.contextLength, c.kvHeads, headDim(c)];
    this.cache = { k: [], v: [] };
    for (let l = 0; l < c.layers; l++) {
      this.cache.k.push(k.alloc(shape, trunk.dtype));
      this.cache.v.push(k.alloc(shape, trunk.dtype));
    }
    this.cacheBytes = this.cache.k.reduce((a, t) => a + 2 * t.bytes, 0);
    this.history = k.alloc([this.slots, this.contextLength], 'i32');
    this.longContext = o.longContext ?? null;
    this.invariant = o.batchInvariant ?? false;
    this.stepHost = new Int32Array(this.slots * (STEP_WORDS + SAMPLE_ROW_WORDS));
    this.stepIn = k.alloc([this.stepHost.length], 'i32');
    this.prefillIn = {
      slot: k.alloc([trunk.capacity], 'i32'),
      position: k.alloc([trunk.capacity], 'i32'),
      rowSlot: k.alloc([1], 'i32'),
      rowStart: k.alloc([1], 'i32'),
      rows: k.alloc([this.slots * SAMPLE_ROW_WORDS], 'i32'),
    };
    this.out = k.alloc([2 * this.slots], 'i32');
    this.drawn = this.out.rows(0, this.slots);
    const lp = this.out.rows(this.slots, 2 * this.slots);
    this.logprobs = new Tensor(lp.ptr, lp.shape, 'f32', lp.device);
    this.running = new Array(this.slots).fill(null);
    this.cached = new Array(this.slots).fill(null);
    this.useGraphs = (o.graphs ?? true) && k.kind === 'cuda';
    if (this.useGraphs) {
      // graphs are recorded from a stream of our own (the legacy default stream cannot be captured)
      this.stream = k.createStream();
      k.setStream(this.stream);
    }
  }

  submit(request: GenerationRequest): Promise<Generation> {
    if (this.closed) return Promise.reject(new Error('generate: the engine is closed'));
    const P = request.prompt.length;
    if (P < 1) return Promise.reject(new DataError('generate: the prompt is empty'));
    if (P >= this.contextLength)
      return Promise.reject(new DataError(`generate: the prompt has ${P} tokens; the context holds ${this.contextLength} (prompt and at least one new token)`));
    for (const t of request.prompt)
      if (!(t >= 0 && t < this.head.shape[0]!)) return Promise.reject(new DataError(`generate: token id ${t} is outside the model's ${this.head.shape[0]} token ids`));
    if (request.params.maxNew < 1) return Promise.resolve({ tokens: [], logprobs: [], finish: 'length', promptTokens: P, cachedTokens: 0 });
    return new Promise<Generation>((resolve, reject) => {
      this.waiting.push({ request, resolve, reject, slot: -1, length: P, last: -1, out: { tokens: [], logprobs: [], finish: 'length', promptTokens: P, cachedTokens: 0 } });
      this.schedule();
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const err = new Error('generate: the engine was closed');
    for (const s of this.waiting.splice(0)) s.reject(err);
    for (const s of this.running) s?.reject(err);
    this.running.fill(null);
    for (const g of this.graphs.values()) g.destroy();
    for (const t of [...this.cache.k, ...this.cache.v, this.history, this.stepIn, ...Object.values(this.prefillIn), this.out]) this.k.free(t);
    if (this.stream) {
      this.k.setStream(0);
      this.k.destroyStream(this.stream);
    }
  }

  /** Runs steps until nothing is left, yielding to the event loop between steps so that requests keep arriving. */
  private schedule(): void {
    if (this.pumping) return;
    this.pumping = true;
    const tick = () => {
      try {
        if (this.closed || !this.step()) {
          this.pumping = false;
          return;
        }
      } catch (err) {
        this.pumping = false;
        this.fail(err as Error);
        return;
      }
      setImmediate(tick);
    };
    setImmediate(tick);
  }

  private fail(err: Error): void {
    for (const s of [...this.waiting.splice(0), ...this.running.filter((x): x is Sequence => x !== null)]) s.reject(err);
    this.running.fill(null);
  }

  /** Admits waiting prompts into free slots, then decodes one token for every running sequence; false when idle. */
  private step(): boolean {
    this.admit();
    const active = this.running.filter((s): s is Sequence => s !== null);
    if (active.length === 0) return this.waiting.length > 0;
    if (this.invariant) this.k.batchInvariant(() => this.decode(active));
    else this.decode(active);
    return true;
  }

  private admit(): void {
    const admitted: Sequence[] = [];
    let tokens = 0;
    while (this.waiting.length > 0) {
      const next = this.waiting[0]!;
      const { slot, reuse } = this.placeFor(next);
      if (slot < 0) break;
      // prompts are prefilled together up to the pass's capacity (batch-invariant: each alone); a
      // longer one goes alone, in chunks
      if (reuse === 0 && admitted.length > 0 && (this.invariant || tokens + next.length > this.trunk.capacity)) break;
      this.waiting.shift();
      next.slot = slot;
      next.out.cachedTokens = reuse;
      this.running[slot] = next;
      this.cached[slot] = null;
      // a prompt that continues what its slot holds is prefilled alone, from where the cache ends
      if (reuse > 0) this.prefillInChunks(next, reuse);
      else {
        admitted.push(next);
        tokens += next.length;
      }
    }
    if (admitted.length === 0) return;
    if (admitted.length === 1 && tokens > this.trunk.capacity) this.prefillInChunks(admitted[0]!, 0);
    else this.prefill(admitted);
  }

  /**
   * The free slot for a prompt, and how many of its first tokens that slot's cache already holds:
   * with reusePrefix, the free slot whose last sequence shares the longest prefix with it (at least
   * one token is left to prefill, whose logits draw the first new token). Dynamic NTK rotates a
   * prompt's keys with the base of its whole length, so a cached prefix is not reused under it.
   */
  private placeFor(s: Sequence): { slot: number; reuse: number } {
    let slot = -1, reuse = 0;
    const reusable = s.request.reusePrefix === true && !this.longContext?.ntk;
    for (let i = 0; i < this.slots; i++) {
      if (this.running[i]) continue;
      if (slot < 0) slot = i;
      if (!reusable) break;
      const shared = sharedPrefix(this.cached[i], s.request.prompt, s.length - 1);
      if (shared > reuse) [slot, reuse] = [i, shared];
    }
    return { slot, reuse };
  }

  /** One packed pass over whole prompts: each attends only to itself, and writes its keys to its slot. */
  private prefill(seqs: Sequence[]): void {
    const { k, trunk } = this;
    const N = seqs.reduce((a, s) => a + s.length, 0);
    const ids = new Int32Array(N), positions = new Int32Array(N), slots = new Int32Array(N);
    const last = new Int32Array(seqs.length);
    let at = 0;
    seqs.forEach((s, i) => {
      ids.set(s.request.prompt, at);
      for (let t = 0; t < s.length; t++) positions[at + t] = t;
      slots.fill(s.slot, at, at + s.length);
      at += s.length;
      last[i] = at - 1;
    });
    const slot = this.prefillIn.slot.rows(0, N), position = this.prefillIn.position.rows(0, N);
    k.upload(slot, slots);
    k.upload(position, positions);
    // each prompt's tokens take the rotary base of the prompt's length (dynamic NTK)
    const hidden = trunk.forward({ ids, rows: 1, seqLen: N, positions, segments: [seqs.map((s) => s.length)] }, { cache: { cache: this.cache, slot, position }, longContext: this.longContext });
    this.drawFrom(pickRows(trunk, hidden, last), seqs);
  }

  /**
   * A prompt longer than one pass, or one whose first `from` tokens its slot's cache holds: chunks
   * attending to the cache before them (the first, at 0, a plain prefill).
   */
  private prefillInChunks(s: Sequence, from: number): void {
    const { k, trunk } = this;
    const chunk = trunk.capacity;
    const { rowSlot, rowStart } = this.prefillIn;
    k.upload(rowSlot, Int32Array.of(s.slot));
    for (let start = from; start < s.length; start += chunk) {
      const n = Math.min(chunk, s.length - start);
      const ids = s.request.prompt.subarray(start, start + n);
      const positions = Int32Array.from({ length: n }, (_, t) => start + t);
      const slot = this.prefillIn.slot.rows(0, n), position = this.prefillIn.position.rows(0, n);
      k.upload(slot, new Int32Array(n).fill(s.slot));
      k.upload(position, positions);
      k.upload(rowStart, Int32Array.of(start));
      const site = { cache: this.cache, slot, position, ...(start > 0 ? { attend: { slot: rowSlot, pos: rowStart } } : {}) };
      const hidden = trunk.forward({ ids, rows: 1, seqLen: n, positions }, { cache: site, longContext: this.longContext });
      if (start + n === s.length) this.drawFrom(pickRows(trunk, hidden, Int32Array.of(n - 1)), [s]);
    }
  }

  /** Writes the prompts into the history, draws each sequence's first token from its last hidden state. */
  private drawFrom(h: Tensor, seqs: Sequence[]): void {
    const { k } = this;
    const flat = this.history.view([this.slots * this.contextLength]);
    for (const s of seqs) k.upload(flat.rows(s.slot * this.contextLength, s.slot * this.contextLength + s.length), s.request.prompt);
    const logits = this.logits(h, seqs.length);
    const rows = this.prefillIn.rows.rows(0, seqs.length * SAMPLE_ROW_WORDS);
    k.upload(rows, packSampleRows(seqs.map((s) => this.sampleRow(s))));
    k.sample(this.drawn.rows(0, seqs.length), logits, rows, { logprobs: this.logprobs.rows(0, seqs.length), history: this.history });
    this.collect(seqs);
  }

  /** fp32 logits of the drawable ids for `rows` hidden states. */
  private logits(h: Tensor, rows: number): Tensor {
    const logits = this.trunk.tensor([rows, this.head.shape[0]!], 'f32');
    this.k.gemm(logits, h, this.head, { transB: true });
    return logits;
  }

  private sampleRow(s: Sequence): SampleRow {
    const p = s.request.params;
    return { temperature: p.temperature, topP: p.topP, repetitionPenalty: p.repetitionPenalty, topK: p.topK, seed: p.seed >>> 0, counter: s.length, historyRow: s.slot, historyLength: s.length };
  }

  /** One token for each running sequence: rows padded to a power of two, so a few recorded graphs serve every batch. */
  private decode(active: Sequence[]): void {
    const B = Math.min(this.slots, 2 ** Math.ceil(Math.log2(active.length)));
    const S = this.slots, host = this.stepHost;
    const bases = new Float32Array(host.buffer, 3 * S * 4, S);
    host.fill(0);
    const rows: SampleRow[] = [];
    for (let b = 0; b < B; b++) {
      const s = active[b];
      host[b] = s ? s.last : 0;
      host[S + b] = s ? s.length - 1 : 0;
      host[2 * S + b] = s ? s.slot : -1;
      // the new token is rotated with the base of its sequence's length, itself included
      bases[b] = ntkBase(this.config, this.longContext?.ntk ?? null, s ? s.length : 1);
      rows.push(s ? this.sampleRow(s) : { temperature: 0, topP: 1, repetitionPenalty: 1, topK: 0, seed: 0, counter: 0, historyRow: -1, historyLength: 0 });
    }
    packSampleRows(rows, host.subarray(STEP_WORDS * S, STEP_WORDS * S + B * SAMPLE_ROW_WORDS));
    this.k.upload(this.stepIn, host);
    this.runStep(B);
    this.collect(active);
  }

  private runStep(B: number): void {
    if (!this.useGraphs) return this.recordStep(B);
    const graph = this.graphs.get(B);
    if (graph) return graph.launch();
    // the first step of a size runs as it is called (it makes the GEMM plans and scratch a
    // recording must not allocate); the second is recorded, then replayed from then on
    if (!this.warmed.has(B)) {
      this.warmed.add(B);
      return this.recordStep(B);
    }
    const g = this.k.captureGraph(() => this.recordStep(B))!;
    this.graphs.set(B, g);
    g.launch();
  }

  /** The kernels of one decode step over the first B rows of the step inputs. */
  private recordStep(B: number): void {
    const { k, trunk, stepIn } = this;
    const S = this.slots;
    const ids = stepIn.rows(0, B), pos = stepIn.rows(S, S + B), slot = stepIn.rows(2 * S, 2 * S + B);
    const words = stepIn.rows(3 * S, 3 * S + B);
    const ropeBases = new Tensor(words.ptr, words.shape, 'f32', words.device);
    const rows = stepIn.rows(STEP_WORDS * S, STEP_WORDS * S + B * SAMPLE_ROW_WORDS);
    const cache = { cache: this.cache, slot, position: pos, attend: { slot, pos } };
    const hidden = trunk.forwardDevice({ ids, positions: pos, rows: B, seqLen: 1, ropeBases }, { cache, longContext: this.longContext });
    const logits = this.logits(hidden.h, B);
    k.sample(this.drawn.rows(0, B), logits, rows, { logprobs: this.logprobs.rows(0, B), history: this.history });
  }

  /** Reads the drawn tokens back (row b: seqs[b]'s) and moves each sequence on: stop token, stop string, length. */
  private collect(seqs: Sequence[]): void {
    const out = this.k.download(this.out) as Int32Array;
    const drawn = out.subarray(0, this.slots), logprobs = new Float32Array(out.buffer, 4 * this.slots, this.slots);
    seqs.forEach((s, b) => {
      const token = drawn[b]!, lp = logprobs[b]!;
      const p = s.request.params;
      if (p.stopTokens.includes(token)) {
        s.out.stopToken = token;
        return this.finish(s, 'stop');
      }
      s.out.tokens.push(token);
      s.out.logprobs.push(lp);
      s.last = token;
      s.length++;
      if (s.request.onToken?.(token, lp) === false) return this.finish(s, 'stop');
      // the token just drawn must still fit in the cache for the next step
      if (s.out.tokens.length >= p.maxNew || s.length >= this.contextLength) this.finish(s, 'length');
    });
  }

  private finish(s: Sequence, reason: Generation['finish']): void {
    this.running[s.slot] = null;
    // the cache holds every token but the last drawn (and that one too when a stop token ended it)
    if (s.request.reusePrefix) this.cached[s.slot] = concat([s.request.prompt, Int32Array.from(s.out.tokens)], Int32Array).subarray(0, s.length - 1);
    s.out.finish = reason;
    s.resolve(s.out);
  }
}

/** How many first tokens `cached` and `prompt` share, at most `limit`. */
function sharedPrefix(cached: Int32Array | null, prompt: Int32Array, limit: number): number {
  if (!cached) return 0;
  const n = Math.min(cached.length, limit);
  let i = 0;
  while (i < n && cached[i] === prompt[i]) i++;
  return i;
}
