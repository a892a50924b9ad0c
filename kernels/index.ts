// loom's compute module: one backend-neutral API over the CPU and CUDA kernel libraries.
//
//   const k = openBackend('auto');            // 'cpu' | 'cuda' | 'cuda:N' | 'auto'
//   const w = k.alloc([out, inp]);             // long-lived (parameters, grads, optimizer state)
//   const step = k.arena(1 << 30);             // activations: step.tensor(...), step.reset()
//   k.upload(w, weights); k.linear(y, x, w, b); k.download(y);
//
// Every op checks shapes and dtypes here, so the C side can trust its arguments; kernel-side
// failures (bad token ids, CUDA errors) come back as KernelError with the library's message.
import { loadNative, type BackendKind, type NativeLib } from './native.js';
import { parseDevice } from './device.js';
import { OpProfile } from './profile.js';
import { Arena, DTYPE_BYTES, DTYPE_CODE, Tensor, type DType } from './tensor.js';

export { Arena, Tensor, type DType } from './tensor.js';
export { type BackendKind, libraryPath } from './native.js';
export { dynamicRopeBase, ropeBase, lognScale } from './rope.js';
export { parseDevice } from './device.js';

export class KernelError extends Error {
  constructor(
    readonly op: string,
    readonly code: number,
    message: string,
  ) {
    super(`kernels.${op}: ${message}`);
    this.name = 'KernelError';
  }
}

export type HostArray = Float32Array | Int32Array | Uint16Array;

export interface AttentionOptions {
  /** softmax scale; default 1/sqrt(head dim) */
  scale?: number;
  /** sliding window: query i sees keys i-window+1..i; 0 or undefined = full causal */
  window?: number;
  /**
   * Packed rows (several sequences a row): int32 [B·T] tensors giving each position's sequence
   * start and end (one past its last position), row-relative; a query sees only its own sequence.
   */
  sequences?: { start: Tensor; end: Tensor } | null;
}

export interface RopeOptions {
  /** rotary base (theta), after any dynamic-NTK adjustment (see ropeBase) */
  base: number;
  /** fp32, one per position entry (as many as pos holds): each token's own base, replacing `base` (dynamic NTK) */
  bases?: Tensor | null;
  /** training length for Qwen's LogN query scaling; 0/undefined = off (always off for keys) */
  lognLength?: number;
  /** the backward: rotate by -angle (apply to the output gradient) */
  inverse?: boolean;
}

export interface AdamWOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** 1-based step count for bias correction */
  step: number;
  /** fp32 [1] scalar on device multiplying the gradient (the clip coefficient) */
  gradScale?: Tensor | null;
  /** receives the updated weights (e.g. the bf16 working copy) */
  working?: Tensor | null;
}

export interface SampleOptions {
  /** fp32 [B]: log softmax of the raw logits at each drawn token */
  logprobs?: Tensor | null;
  /** int32 [rows, P]: token histories for the repetition penalty, appended to (see SampleRow) */
  history?: Tensor | null;
}

/** One row's sampling settings, as lk_sample_row lays them out. */
export interface SampleRow {
  /** <= 0: greedy */
  temperature: number;
  topP: number;
  repetitionPenalty: number;
  topK: number;
  /** uint32 */
  seed: number;
  /** picks the step's random stream (e.g. the position the token takes) */
  counter: number;
  /** the row of the history tensor holding this row's tokens; -1: none */
  historyRow: number;
  historyLength: number;
}

/** 32-bit words of one lk_sample_row. */
export const SAMPLE_ROW_WORDS = 8;

/** Sampling settings as the int32 words lk_sample reads (floats by their bits), into `out` when given. */
export function packSampleRows(rows: readonly SampleRow[], out = new Int32Array(rows.length * SAMPLE_ROW_WORDS)): Int32Array {
  const f = new Float32Array(out.buffer, out.byteOffset, out.length);
  rows.forEach((r, b) => {
    const o = b * SAMPLE_ROW_WORDS;
    f[o] = r.temperature;
    f[o + 1] = r.topP;
    f[o + 2] = r.repetitionPenalty;
    out[o + 3] = r.topK;
    out[o + 4] = r.seed | 0;
    out[o + 5] = r.counter;
    out[o + 6] = r.historyRow;
    out[o + 7] = r.historyLength;
  });
  return out;
}

export interface DecodeOptions {
  /** softmax scale; default 1/sqrt(head dim) */
  scale?: number;
  /** sliding window over the cache; 0 = all keys */
  window?: number;
  /** int32 [B]: the cache slot of each row (default: row b uses slot b) */
  slot?: Tensor | null;
  /** fp32 scratch of decodeWorkspace(...) elements, for splitting the keys over blocks (CUDA) */
  workspace?: Tensor | null;
}

/** A recorded sequence of kernels (captureGraph). */
export interface Graph {
  launch(): void;
  destroy(): void;
}

/** fp32 elements attentionDecode's workspace needs (LK_DECODE_WORKSPACE in loom_kernels.h). */
export function decodeWorkspace(B: number, Tq: number, Hq: number, D: number, Tmax: number): number {
  return B * Tq * Hq * Math.ceil(Tmax / 64) * (D + 2);
}

export interface LmHeadOptions {
  /** vocabulary rows per chunk */
  chunk: number;
  /** fp32 scratch of at least lmHeadWorkspace(N, C, chunk, V) elements */
  workspace: Tensor;
  /** multiplies dloss/dlogit, e.g. 1 / number of counted tokens */
  gradScale?: number;
  /** fp32 [N]: a further factor per target (any sign; e.g. loss masks, PPO coefficients); none = 1 */
  weights?: Tensor | null;
}

/**
 * fp32 elements of scratch lmHeadCE needs for `rows` rows of width `dim`, `chunk` vocabulary
 * entries at a time, over a vocabulary of `vocab`: the logits region holds rows × chunk logits
 * (the CPU's vocabulary chunks) or at least one row of the whole vocabulary (CUDA works in row
 * chunks); see LK_LMHEAD_LOGITS in loom_kernels.h.
 */
export function lmHeadWorkspace(rows: number, dim: number, chunk: number, vocab: number): number {
  return 2 * Math.max(rows * chunk, vocab) + rows * dim + 2 * rows;
}

/** The CUDA library and a GPU exist here; the reason when not. */
export function cudaAvailability(): { ok: true; devices: number } | { ok: false; reason: string } {
  let lib: NativeLib;
  try {
    lib = loadNative('cuda');
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
  const n = lib.lk_device_count() as number;
  if (n <= 0) return { ok: false, reason: `kernels: no CUDA device is visible (${lib.lk_last_error()})` };
  return { ok: true, devices: n };
}

const opened = new Map<string, Backend>();

/**
 * Opens a backend: 'cpu', 'cuda', 'cuda:N', or 'auto' (the first GPU when the CUDA library
 * loads and sees one, else the CPU). Asking for CUDA where it is missing throws, saying why.
 */
export function openBackend(spec?: string): Backend {
  const { kind, index } = parseDevice(spec);
  let resolved: BackendKind = 'cpu';
  if (kind === 'cuda') {
    const cuda = cudaAvailability();
    if (!cuda.ok) throw new Error(`kernels: --device ${spec} asked for CUDA, but it is unavailable: ${cuda.reason}`);
    if (index >= cuda.devices)
      throw new Error(`kernels: --device ${spec}: only ${cuda.devices} CUDA device(s) (cuda:0..cuda:${cuda.devices - 1})`);
    resolved = 'cuda';
  } else if (kind === 'auto') {
    resolved = cudaAvailability().ok ? 'cuda' : 'cpu';
  }
  const device = resolved === 'cpu' ? 'cpu' : `cuda:${index}`;
  let backend = opened.get(device);
  if (!backend) {
    const lib = loadNative(resolved);
    const profile = process.env.LOOM_PROFILE ? new OpProfile() : null;
    backend = new Backend(resolved, index, profile ? profile.wrap(lib) : lib, profile);
    opened.set(device, backend);
  }
  return backend;
}

function same(op: string, what: string, a: readonly number[], b: readonly number[]): void {
  if (a.length !== b.length || a.some((d, i) => d !== b[i]))
    throw new Error(`kernels.${op}: ${what}: [${a.join(', ')}] vs [${b.join(', ')}]`);
}

const last = (t: Tensor): number => t.shape[t.shape.length - 1] ?? 1;

export class Backend {
  /** 'cpu' or 'cuda:N' */
  readonly device: string;
  readonly name: string;

  constructor(
    readonly kind: BackendKind,
    readonly index: number,
    private readonly lib: NativeLib,
    /** per-op device times, when LOOM_PROFILE is set (see profile.ts) */
    readonly profile: OpProfile | null = null,
  ) {
    this.device = kind === 'cpu' ? 'cpu' : `cuda:${index}`;
    this.check('init', lib.lk_init(index));
    const name = Buffer.alloc(256);
    this.check('device_name', lib.lk_device_name(index, name, name.length));
    this.name = name.toString('utf8', 0, name.indexOf(0));
  }

  private check(op: string, rc: number): void {
    if (rc !== 0) throw new KernelError(op, rc, (this.lib.lk_last_error() as string) || `error code ${rc}`);
  }

  private own(op: string, ...ts: (Tensor | null | undefined)[]): void {
    for (const t of ts)
      if (t && t.device !== this.device) throw new Error(`kernels.${op}: ${t} is on ${t.device}, not ${this.device}`);
  }

  private dtypes(op: string, dt: DType, ...ts: (Tensor | null | undefined)[]): number {
    for (const t of ts) if (t && t.dtype !== dt) throw new Error(`kernels.${op}: ${t} should be ${dt}`);
    return DTYPE_CODE[dt];
  }

  // ---- memory ----

  /** A long-lived zeroed allocation (parameters, gradients, optimizer state). */
  alloc(shape: readonly number[], dtype: DType = 'f32'): Tensor {
    const out = [0];
    const bytes = Math.max(1, shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype]);
    this.check('alloc', this.lib.lk_malloc(bytes, out));
    const t = new Tensor(out[0], shape, dtype, this.device);
    this.check('alloc', this.lib.lk_memset0(t.ptr, bytes));
    return t;
  }

  /** Frees a tensor from alloc() (not an arena tensor or a view). */
  free(t: Tensor): void {
    this.check('free', this.lib.lk_free(t.ptr));
  }

  /** One device allocation of `bytes`, handed out by bump allocation; see Arena. */
  arena(bytes: number): Arena {
    const out = [0];
    this.check('arena', this.lib.lk_malloc(bytes, out));
    return new Arena(out[0], bytes, this.device);
  }

  freeArena(a: Arena): void {
    this.check('free', this.lib.lk_free(a.base));
  }

  upload(t: Tensor, data: HostArray): void {
    this.own('upload', t);
    if (data.byteLength !== t.bytes) throw new Error(`kernels.upload: ${data.byteLength} bytes into ${t} (${t.bytes} bytes)`);
    this.check('upload', this.lib.lk_copy_h2d(t.ptr, data, t.bytes));
  }

  /** Copies to the host: Float32Array for f32, Int32Array for i32, Uint16Array (raw bits) for bf16. */
  download(t: Tensor): HostArray {
    const out = t.dtype === 'f32' ? new Float32Array(t.numel) : t.dtype === 'i32' ? new Int32Array(t.numel) : new Uint16Array(t.numel);
    this.check('download', this.lib.lk_copy_d2h(out, t.ptr, t.bytes));
    return out;
  }

  /** Downloads as fp32 whatever the dtype (bf16 widened). */
  toFloat32(t: Tensor): Float32Array {
    const raw = this.download(t);
    if (raw instanceof Float32Array) return raw;
    if (raw instanceof Int32Array) return Float32Array.from(raw);
    const out = new Float32Array(raw.length);
    new Uint32Array(out.buffer).set(Array.from(raw, (h) => h << 16));
    return out;
  }

  copy(dst: Tensor, src: Tensor): void {
    this.own('copy', dst, src);
    if (dst.bytes !== src.bytes) throw new Error(`kernels.copy: ${src} into ${dst}`);
    this.check('copy', this.lib.lk_copy_d2d(dst.ptr, src.ptr, src.bytes));
  }

  zero(t: Tensor): void {
    this.own('zero', t);
    this.check('zero', this.lib.lk_memset0(t.ptr, t.bytes));
  }

  fill(t: Tensor, value: number): void {
    this.own('fill', t);
    this.check('fill', this.lib.lk_fill(t.ptr, t.numel, value, DTYPE_CODE[t.dtype]));
  }

  /** Waits for all work queued on the current stream. */
  synchronize(): void {
    this.check('synchronize', this.lib.lk_synchronize());
  }

  /** A new stream handle (0 on the CPU backend, which runs synchronously). */
  createStream(): number {
    const out = [0];
    this.check('createStream', this.lib.lk_stream_create(out));
    return out[0];
  }

  /**
   * Runs `work` in batch-invariant mode (lk_set_batch_invariant): the products and decode attention
   * it queues give a row the same bits whatever the number of rows beside it. A graph recorded
   * inside keeps the kernels chosen.
   */
  batchInvariant<T>(work: () => T): T {
    this.check('batchInvariant', this.lib.lk_set_batch_invariant(1));
    try {
      return work();
    } finally {
      this.lib.lk_set_batch_invariant(0);
    }
  }

  /** Queues subsequent ops on `stream` (0 = the default stream). */
  setStream(stream: number): void {
    this.check('setStream', this.lib.lk_set_stream(stream));
  }

  destroyStream(stream: number): void {
    this.check('destroyStream', this.lib.lk_stream_destroy(stream));
  }

  /** An event handle for ordering streams (0 on the CPU backend). */
  createEvent(): number {
    const out = [0];
    this.check('createEvent', this.lib.lk_event_create(out));
    return out[0];
  }

  destroyEvent(event: number): void {
    this.check('destroyEvent', this.lib.lk_event_destroy(event));
  }

  /** Marks the point the current stream has reached. */
  recordEvent(event: number): void {
    this.check('recordEvent', this.lib.lk_event_record(event));
  }

  /** Work queued on the current stream from now on waits until `event`'s point is reached. */
  waitEvent(event: number): void {
    this.check('waitEvent', this.lib.lk_stream_wait_event(event));
  }

  memInfo(): { free: number; total: number } {
    const free = [0];
    const total = [0];
    this.check('mem_info', this.lib.lk_mem_info(free, total));
    return { free: Number(free[0]), total: Number(total[0]) };
  }

  // ---- elementwise and reductions ----

  /** fp32 <-> bf16 (round to nearest even) or same-dtype copy. */
  cast(dst: Tensor, src: Tensor): void {
    this.own('cast', dst, src);
    if (dst.numel !== src.numel) throw new Error(`kernels.cast: ${src} into ${dst}`);
    this.check('cast', this.lib.lk_cast(dst.ptr, DTYPE_CODE[dst.dtype], src.ptr, DTYPE_CODE[src.dtype], src.numel));
  }

  /** out = a + b (the residual add; its backward passes the gradient to both). */
  add(out: Tensor, a: Tensor, b: Tensor): void {
    this.own('add', out, a, b);
    same('add', 'shapes differ', a.shape, b.shape);
    if (out.numel !== a.numel) throw new Error(`kernels.add: ${out} cannot hold ${a}`);
    this.check('add', this.lib.lk_add(out.ptr, a.ptr, b.ptr, a.numel, this.dtypes('add', a.dtype, b, out)));
  }

  /** y += alpha * x */
  axpy(y: Tensor, alpha: number, x: Tensor): void {
    this.own('axpy', y, x);
    if (y.numel !== x.numel) throw new Error(`kernels.axpy: ${x} into ${y}`);
    this.check('axpy', this.lib.lk_axpy(y.ptr, alpha, x.ptr, x.numel, this.dtypes('axpy', x.dtype, y)));
  }

  scale(x: Tensor, alpha: number): void {
    this.own('scale', x);
    this.check('scale', this.lib.lk_scale(x.ptr, alpha, x.numel, DTYPE_CODE[x.dtype]));
  }

  /** out (fp32 [1]) = sum(x), or += with accumulate. */
  sum(out: Tensor, x: Tensor, accumulate = false): void {
    this.own('sum', out, x);
    this.dtypes('sum', 'f32', out);
    this.check('sum', this.lib.lk_sum(out.ptr, x.ptr, x.numel, DTYPE_CODE[x.dtype], accumulate ? 1 : 0));
  }

  /** out (fp32 [1]) = sum(x*x), or += with accumulate (global grad norm over several buffers). */
  sumsq(out: Tensor, x: Tensor, accumulate = false): void {
    this.own('sumsq', out, x);
    this.dtypes('sumsq', 'f32', out);
    this.check('sumsq', this.lib.lk_sumsq(out.ptr, x.ptr, x.numel, DTYPE_CODE[x.dtype], accumulate ? 1 : 0));
  }

  // ---- matmul ----

  /** C = alpha * op(A) @ op(B) + beta * C on 2-D tensors; op transposes when the flag is set. */
  gemm(c: Tensor, a: Tensor, b: Tensor, opts: { transA?: boolean; transB?: boolean; alpha?: number; beta?: number } = {}): void {
    this.own('gemm', c, a, b);
    const [ar, ac] = a.shape, [br, bc] = b.shape, [M, N] = c.shape;
    const K = opts.transA ? ar : ac;
    if ((opts.transA ? ac : ar) !== M || (opts.transB ? bc : br) !== K || (opts.transB ? br : bc) !== N)
      throw new Error(`kernels.gemm: ${a}${opts.transA ? 'ᵀ' : ''} @ ${b}${opts.transB ? 'ᵀ' : ''} does not give ${c}`);
    if (a.dtype !== b.dtype) throw new Error(`kernels.gemm: ${a} and ${b} differ in dtype`);
    this.check(
      'gemm',
      this.lib.lk_gemm(opts.transA ? 1 : 0, opts.transB ? 1 : 0, M, N, K, opts.alpha ?? 1, a.ptr, ac, b.ptr, bc, opts.beta ?? 0, c.ptr, N, DTYPE_CODE[a.dtype], DTYPE_CODE[c.dtype]),
    );
  }

  /** y[M, N] = x[M, K] @ w[N, K]ᵀ + b[N]; x and y may have any shape holding M*K and M*N elements. */
  linear(y: Tensor, x: Tensor, w: Tensor, b?: Tensor | null): void {
    this.own('linear', y, x, w, b);
    const [N, K] = w.shape;
    const M = x.numel / K;
    if (!Number.isInteger(M) || y.numel !== M * N || (b && b.numel !== N))
      throw new Error(`kernels.linear: x ${x}, w ${w}, b ${b ?? 'none'}, y ${y} do not fit y = x @ wᵀ + b`);
    const dt = this.dtypes('linear', x.dtype, w, y, b);
    this.check('linear', this.lib.lk_linear_fwd(y.ptr, x.ptr, w.ptr, b?.ptr ?? 0, M, K, N, dt));
  }

  /** dx = dy @ w (overwrite, null skips); dw += dyᵀ @ x (fp32, null skips: frozen); db += Σ dy (fp32, null skips). */
  linearBackward(dx: Tensor | null, dw: Tensor | null, db: Tensor | null, dy: Tensor, x: Tensor, w: Tensor): void {
    this.own('linearBackward', dx, dw, db, dy, x, w);
    const [N, K] = w.shape;
    const M = x.numel / K;
    if (dw) same('linearBackward', 'dw vs w', dw.shape, w.shape);
    if (!Number.isInteger(M) || dy.numel !== M * N || (dx && dx.numel !== x.numel) || (db && db.numel !== N))
      throw new Error(`kernels.linearBackward: dy ${dy}, x ${x}, w ${w} do not fit`);
    this.dtypes('linearBackward', 'f32', dw, db);
    const dt = this.dtypes('linearBackward', x.dtype, dy, w, dx);
    this.check('linearBackward', this.lib.lk_linear_bwd(dx?.ptr ?? 0, dw?.ptr ?? 0, db?.ptr ?? 0, dy.ptr, x.ptr, w.ptr, M, K, N, dt));
  }

  // ---- embedding ----

  /** out[N, C] = table[ids[N]] */
  embedding(out: Tensor, ids: Tensor, table: Tensor): void {
    this.own('embedding', out, ids, table);
    const [V, C] = table.shape;
    this.dtypes('embedding', 'i32', ids);
    if (out.numel !== ids.numel * C) throw new Error(`kernels.embedding: ${out} cannot hold ${ids.numel} rows of ${C}`);
    this.check('embedding', this.lib.lk_embedding_fwd(out.ptr, ids.ptr, table.ptr, ids.numel, V, C, this.dtypes('embedding', table.dtype, out)));
  }

  /** dtable (fp32) += scatter of dout by ids */
  embeddingBackward(dtable: Tensor, dout: Tensor, ids: Tensor): void {
    this.own('embeddingBackward', dtable, dout, ids);
    const [V, C] = dtable.shape;
    this.dtypes('embeddingBackward', 'i32', ids);
    this.dtypes('embeddingBackward', 'f32', dtable);
    if (dout.numel !== ids.numel * C) throw new Error(`kernels.embeddingBackward: ${dout} vs ${ids.numel} ids of ${C}`);
    this.check('embeddingBackward', this.lib.lk_embedding_bwd(dtable.ptr, dout.ptr, ids.ptr, ids.numel, V, C, DTYPE_CODE[dout.dtype]));
  }

  // ---- RMSNorm ----

  /** y = x / rms(x) * w over the last dimension; rstd (fp32 [rows]) is saved for the backward. */
  rmsnorm(y: Tensor, rstd: Tensor, x: Tensor, w: Tensor, eps: number): void {
    this.own('rmsnorm', y, rstd, x, w);
    const C = last(x), N = x.numel / C;
    if (w.numel !== C || y.numel !== x.numel || rstd.numel !== N)
      throw new Error(`kernels.rmsnorm: x ${x}, w ${w}, y ${y}, rstd ${rstd} do not fit`);
    this.dtypes('rmsnorm', 'f32', rstd);
    this.check('rmsnorm', this.lib.lk_rmsnorm_fwd(y.ptr, rstd.ptr, x.ptr, w.ptr, N, C, eps, this.dtypes('rmsnorm', x.dtype, y, w)));
  }

  /**
   * sum = a + b, then rmsnorm(y, rstd, sum, w, eps): a residual add and the norm that reads it in
   * one call, with the same bits as add then rmsnorm (the norm reads the sum as stored).
   */
  addRmsnorm(sum: Tensor, y: Tensor, rstd: Tensor, a: Tensor, b: Tensor, w: Tensor, eps: number): void {
    this.own('addRmsnorm', sum, y, rstd, a, b, w);
    same('addRmsnorm', 'shapes differ', a.shape, b.shape);
    const C = last(a), N = a.numel / C;
    if (w.numel !== C || sum.numel !== a.numel || y.numel !== a.numel || rstd.numel !== N)
      throw new Error(`kernels.addRmsnorm: a ${a}, w ${w}, sum ${sum}, y ${y}, rstd ${rstd} do not fit`);
    this.dtypes('addRmsnorm', 'f32', rstd);
    const dt = this.dtypes('addRmsnorm', a.dtype, b, sum, y, w);
    this.check('addRmsnorm', this.lib.lk_add_rmsnorm_fwd(sum.ptr, y.ptr, rstd.ptr, a.ptr, b.ptr, w.ptr, N, C, eps, dt));
  }

  /** dx = overwrite; dw (fp32) += */
  /** dx = overwrite; dw (fp32) += (null skips: a frozen weight). */
  rmsnormBackward(dx: Tensor, dw: Tensor | null, dy: Tensor, x: Tensor, w: Tensor, rstd: Tensor): void {
    this.own('rmsnormBackward', dx, dw, dy, x, w, rstd);
    const C = last(x), N = x.numel / C;
    if ((dw && dw.numel !== C) || dx.numel !== x.numel || dy.numel !== x.numel || rstd.numel !== N)
      throw new Error(`kernels.rmsnormBackward: shapes do not fit x ${x}`);
    this.dtypes('rmsnormBackward', 'f32', dw, rstd);
    const dt = this.dtypes('rmsnormBackward', x.dtype, dx, dy, w);
    this.check('rmsnormBackward', this.lib.lk_rmsnorm_bwd(dx.ptr, dw?.ptr ?? 0, dy.ptr, x.ptr, w.ptr, rstd.ptr, N, C, dt));
  }

  // ---- RoPE ----

  /** Rotates x[B, T, H, D] by positions pos (int32 [T], or [B, T] per token); in place when out === x. */
  rope(out: Tensor, x: Tensor, pos: Tensor, opts: RopeOptions): void {
    this.own('rope', out, x, pos);
    if (x.shape.length !== 4) throw new Error(`kernels.rope: x ${x} must be [B, T, H, D]`);
    const [B, T, H, D] = x.shape;
    same('rope', 'out vs x', out.shape, x.shape);
    this.dtypes('rope', 'i32', pos);
    if (pos.numel !== T && pos.numel !== B * T) throw new Error(`kernels.rope: ${pos} must hold ${T} or ${B * T} positions`);
    const bases = opts.bases ?? null;
    if (bases) {
      this.own('rope', bases);
      this.dtypes('rope', 'f32', bases);
      if (bases.numel !== pos.numel) throw new Error(`kernels.rope: bases ${bases} must hold one base per position entry (${pos.numel})`);
    }
    const dt = this.dtypes('rope', x.dtype, out);
    this.check('rope', this.lib.lk_rope(out.ptr, x.ptr, pos.ptr, pos.numel, B, T, H, D, opts.base, bases?.ptr ?? 0, opts.lognLength ?? 0, opts.inverse ? 1 : 0, dt));
  }

  // ---- attention ----

  private attnDims(op: string, q: Tensor, k: Tensor, v: Tensor): [number, number, number, number, number] {
    if (q.shape.length !== 4 || k.shape.length !== 4) throw new Error(`kernels.${op}: q ${q} and k ${k} must be [B, T, H, D]`);
    const [B, T, Hq, D] = q.shape;
    const [kb, kt, Hkv, kd] = k.shape;
    same(op, 'k vs v', k.shape, v.shape);
    if (kb !== B || kt !== T || kd !== D || Hq % Hkv !== 0) throw new Error(`kernels.${op}: q ${q} and k ${k} do not fit (GQA needs Hq % Hkv == 0)`);
    return [B, T, Hq, Hkv, D];
  }

  /** Causal attention: out[B,T,Hq,D], lse fp32 [B,Hq,T] saved for the backward. */
  attention(out: Tensor, lse: Tensor, q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): void {
    this.own('attention', out, lse, q, k, v);
    const [B, T, Hq, Hkv, D] = this.attnDims('attention', q, k, v);
    same('attention', 'out vs q', out.shape, q.shape);
    if (lse.numel !== B * Hq * T) throw new Error(`kernels.attention: lse ${lse} must hold [${B}, ${Hq}, ${T}]`);
    this.dtypes('attention', 'f32', lse);
    const dt = this.dtypes('attention', q.dtype, k, v, out);
    const [start, end] = this.sequenceBounds('attention', B * T, opts);
    this.check('attention', this.lib.lk_attention_fwd(out.ptr, lse.ptr, q.ptr, k.ptr, v.ptr, B, T, Hq, Hkv, D, opts.scale ?? 1 / Math.sqrt(D), opts.window ?? 0, start, end, dt));
  }

  /** dq, dk, dv overwritten. scratch: fp32 [B*Hq*T]. */
  attentionBackward(dq: Tensor, dk: Tensor, dv: Tensor, dout: Tensor, out: Tensor, lse: Tensor, q: Tensor, k: Tensor, v: Tensor, scratch: Tensor, opts: AttentionOptions = {}): void {
    this.own('attentionBackward', dq, dk, dv, dout, out, lse, q, k, v, scratch);
    const [B, T, Hq, Hkv, D] = this.attnDims('attentionBackward', q, k, v);
    same('attentionBackward', 'dq vs q', dq.shape, q.shape);
    same('attentionBackward', 'dk vs k', dk.shape, k.shape);
    same('attentionBackward', 'dv vs v', dv.shape, v.shape);
    same('attentionBackward', 'dout vs q', dout.shape, q.shape);
    if (scratch.numel < B * Hq * T || lse.numel !== B * Hq * T) throw new Error(`kernels.attentionBackward: lse/scratch must hold ${B * Hq * T} floats`);
    this.dtypes('attentionBackward', 'f32', lse, scratch);
    const dt = this.dtypes('attentionBackward', q.dtype, k, v, out, dout, dq, dk, dv);
    const [start, end] = this.sequenceBounds('attentionBackward', B * T, opts);
    this.check('attentionBackward', this.lib.lk_attention_bwd(dq.ptr, dk.ptr, dv.ptr, dout.ptr, out.ptr, lse.ptr, q.ptr, k.ptr, v.ptr, scratch.ptr, B, T, Hq, Hkv, D, opts.scale ?? 1 / Math.sqrt(D), opts.window ?? 0, start, end, dt));
  }

  /** The addresses of packed rows' sequence bounds (0, 0 without them), checked. */
  private sequenceBounds(op: string, n: number, opts: AttentionOptions): [number, number] {
    const s = opts.sequences;
    if (!s) return [0, 0];
    this.own(op, s.start, s.end);
    this.dtypes(op, 'i32', s.start, s.end);
    if (s.start.numel !== n || s.end.numel !== n) throw new Error(`kernels.${op}: sequence bounds must hold ${n} positions`);
    return [s.start.ptr, s.end.ptr];
  }

  /** kcache/vcache[S, Tmax, Hkv, D] at (slot[n], pos[n]) = k/v[N, Hkv, D] row n; slot < 0 skips. */
  /**
   * A decode step's RoPE and KV append in one launch: qkv [N, (Hq + 2·Hkv)·D] holds each token's
   * query, key and value heads side by side; the rotated queries go to q [N, Hq, D] (LogN from
   * `opts.lognLength`), the rotated keys and the values to the cache at (slot, pos). The bits of
   * rope on q and k, then kvAppend.
   */
  ropeAppend(q: Tensor, kcache: Tensor, vcache: Tensor, qkv: Tensor, pos: Tensor, slot: Tensor, opts: RopeOptions): void {
    this.own('ropeAppend', q, kcache, vcache, qkv, pos, slot);
    const [S, Tmax, Hkv, D] = kcache.shape as [number, number, number, number];
    same('ropeAppend', 'kcache vs vcache', kcache.shape, vcache.shape);
    const N = pos.numel, Hq = q.numel / (N * D);
    if (kcache.shape.length !== 4 || !Number.isInteger(Hq) || slot.numel !== N || qkv.numel !== N * (Hq + 2 * Hkv) * D)
      throw new Error(`kernels.ropeAppend: q ${q}, qkv ${qkv}, cache ${kcache}, slot ${slot}, pos ${pos} do not fit`);
    this.dtypes('ropeAppend', 'i32', pos, slot);
    const bases = opts.bases ?? null;
    if (bases) {
      this.own('ropeAppend', bases);
      this.dtypes('ropeAppend', 'f32', bases);
      if (bases.numel !== N) throw new Error(`kernels.ropeAppend: bases ${bases} must hold one base per token (${N})`);
    }
    const dt = this.dtypes('ropeAppend', q.dtype, qkv, kcache, vcache);
    this.check('ropeAppend', this.lib.lk_rope_append(q.ptr, kcache.ptr, vcache.ptr, qkv.ptr, pos.ptr, slot.ptr, N, S, Tmax, Hq, Hkv, D, opts.base, bases?.ptr ?? 0, opts.lognLength ?? 0, dt));
  }

  kvAppend(kcache: Tensor, vcache: Tensor, k: Tensor, v: Tensor, slot: Tensor, pos: Tensor): void {
    this.own('kvAppend', kcache, vcache, k, v, slot, pos);
    const [S, Tmax, Hkv, D] = kcache.shape as [number, number, number, number];
    same('kvAppend', 'kcache vs vcache', kcache.shape, vcache.shape);
    same('kvAppend', 'k vs v', k.shape, v.shape);
    const N = k.numel / (Hkv * D);
    if (kcache.shape.length !== 4 || !Number.isInteger(N) || slot.numel !== N || pos.numel !== N)
      throw new Error(`kernels.kvAppend: k ${k}, cache ${kcache}, slot ${slot}, pos ${pos} do not fit`);
    this.dtypes('kvAppend', 'i32', slot, pos);
    const dt = this.dtypes('kvAppend', k.dtype, v, kcache, vcache);
    this.check('kvAppend', this.lib.lk_kv_append(kcache.ptr, vcache.ptr, k.ptr, v.ptr, slot.ptr, pos.ptr, N, S, Tmax, Hkv, D, dt));
  }

  /**
   * Attention over the KV cache: q[B, Tq, Hq, D], row b's query i at position pos[b] + i of cache
   * slot slot[b] (default b; < 0: padding, zeros out), seeing that slot's keys up to its position.
   */
  attentionDecode(out: Tensor, q: Tensor, kcache: Tensor, vcache: Tensor, pos: Tensor, opts: DecodeOptions = {}): void {
    this.own('attentionDecode', out, q, kcache, vcache, pos, opts.slot, opts.workspace);
    const [B, Tq, Hq, D] = q.shape as [number, number, number, number];
    const [S, Tmax, Hkv, kd] = kcache.shape as [number, number, number, number];
    same('attentionDecode', 'kcache vs vcache', kcache.shape, vcache.shape);
    same('attentionDecode', 'out vs q', out.shape, q.shape);
    if (q.shape.length !== 4 || kcache.shape.length !== 4 || kd !== D || Hq % Hkv !== 0 || pos.numel !== B || (opts.slot && opts.slot.numel !== B))
      throw new Error(`kernels.attentionDecode: q ${q}, cache ${kcache}, pos ${pos} do not fit`);
    this.dtypes('attentionDecode', 'i32', pos, opts.slot);
    this.dtypes('attentionDecode', 'f32', opts.workspace);
    if (opts.workspace && opts.workspace.numel < decodeWorkspace(B, Tq, Hq, D, Tmax))
      throw new Error(`kernels.attentionDecode: workspace ${opts.workspace} needs ${decodeWorkspace(B, Tq, Hq, D, Tmax)} fp32 elements`);
    const dt = this.dtypes('attentionDecode', q.dtype, kcache, vcache, out);
    this.check(
      'attentionDecode',
      this.lib.lk_attention_decode(out.ptr, q.ptr, kcache.ptr, vcache.ptr, opts.slot?.ptr ?? 0, pos.ptr, B, Tq, S, Tmax, Hq, Hkv, D, opts.scale ?? 1 / Math.sqrt(D), opts.window ?? 0, opts.workspace?.ptr ?? 0, dt),
    );
  }

  // ---- SwiGLU, dropout ----

  /** out = silu(gate) * up */
  swiglu(out: Tensor, gate: Tensor, up: Tensor): void {
    this.own('swiglu', out, gate, up);
    same('swiglu', 'gate vs up', gate.shape, up.shape);
    if (out.numel !== gate.numel) throw new Error(`kernels.swiglu: ${out} vs ${gate}`);
    this.check('swiglu', this.lib.lk_swiglu_fwd(out.ptr, gate.ptr, up.ptr, gate.numel, this.dtypes('swiglu', gate.dtype, up, out)));
  }

  /** out[N, F] = silu(gateUp[:, :F]) * gateUp[:, F:]: the rows of one joined gate/up product, the bits of swiglu on its halves */
  swigluJoined(out: Tensor, gateUp: Tensor): void {
    this.own('swigluJoined', out, gateUp);
    const [N, F] = out.shape as [number, number];
    if (out.shape.length !== 2 || gateUp.shape.length !== 2 || gateUp.shape[0] !== N || gateUp.shape[1] !== 2 * F)
      throw new Error(`kernels.swigluJoined: ${out} vs ${gateUp}`);
    this.check('swigluJoined', this.lib.lk_swiglu_joined_fwd(out.ptr, gateUp.ptr, N, F, this.dtypes('swigluJoined', gateUp.dtype, out)));
  }

  swigluBackward(dgate: Tensor, dup: Tensor, dout: Tensor, gate: Tensor, up: Tensor): void {
    this.own('swigluBackward', dgate, dup, dout, gate, up);
    for (const t of [dgate, dup, dout, up]) if (t.numel !== gate.numel) throw new Error(`kernels.swigluBackward: ${t} vs ${gate}`);
    const dt = this.dtypes('swigluBackward', gate.dtype, dgate, dup, dout, up);
    this.check('swigluBackward', this.lib.lk_swiglu_bwd(dgate.ptr, dup.ptr, dout.ptr, gate.ptr, up.ptr, gate.numel, dt));
  }

  /** Inverted dropout with a mask hashed from (seed, index): same mask on every backend. */
  dropout(out: Tensor, x: Tensor, p: number, seed: number): void {
    this.own('dropout', out, x);
    if (out.numel !== x.numel) throw new Error(`kernels.dropout: ${out} vs ${x}`);
    this.check('dropout', this.lib.lk_dropout_fwd(out.ptr, x.ptr, x.numel, p, seed, this.dtypes('dropout', x.dtype, out)));
  }

  dropoutBackward(dx: Tensor, dout: Tensor, p: number, seed: number): void {
    this.own('dropoutBackward', dx, dout);
    if (dx.numel !== dout.numel) throw new Error(`kernels.dropoutBackward: ${dx} vs ${dout}`);
    this.check('dropoutBackward', this.lib.lk_dropout_bwd(dx.ptr, dout.ptr, dout.numel, p, seed, this.dtypes('dropoutBackward', dout.dtype, dx)));
  }

  // ---- LM head + cross-entropy ----

  /**
   * losses (fp32 [N]) = CE(h[N,C] @ w[V,C]ᵀ, targets) with targets < 0 ignored, never holding
   * more than N x chunk logits; unweighted, so -losses are log-probabilities. With dh: dh =
   * overwrite, and dw (fp32) += unless dw is null (a frozen head), for the loss
   * Σ gradScale · weights[n] · losses[n].
   */
  lmHeadCE(losses: Tensor, dh: Tensor | null, dw: Tensor | null, h: Tensor, w: Tensor, targets: Tensor, opts: LmHeadOptions): void {
    const weights = opts.weights ?? null;
    this.own('lmHeadCE', losses, dh, dw, h, w, targets, weights, opts.workspace);
    const [V, C] = w.shape;
    const N = h.numel / C;
    if (last(h) !== C || targets.numel !== N || losses.numel !== N || (dh && dh.numel !== h.numel) || (dw && dw.numel !== w.numel) || (weights && weights.numel !== N))
      throw new Error(`kernels.lmHeadCE: h ${h}, w ${w}, targets ${targets}, losses ${losses}, weights ${weights ?? 'none'} do not fit`);
    if (dw && !dh) throw new Error('kernels.lmHeadCE: dw needs dh');
    const chunk = Math.min(opts.chunk, V);
    if (opts.workspace.numel < lmHeadWorkspace(N, C, chunk, V))
      throw new Error(`kernels.lmHeadCE: workspace ${opts.workspace} needs ${lmHeadWorkspace(N, C, chunk, V)} fp32 elements`);
    this.dtypes('lmHeadCE', 'i32', targets);
    this.dtypes('lmHeadCE', 'f32', losses, dw, weights, opts.workspace);
    const dt = this.dtypes('lmHeadCE', h.dtype, w, dh);
    this.check('lmHeadCE', this.lib.lk_lmhead_ce(losses.ptr, dh?.ptr ?? 0, dw?.ptr ?? 0, h.ptr, w.ptr, targets.ptr, weights?.ptr ?? 0, N, C, V, chunk, opts.gradScale ?? 1, opts.workspace.ptr, dt));
  }

  // ---- optimizer ----

  /** norm = sqrt(sumsq); coef = min(1, maxNorm / (norm + 1e-6)) — all fp32 [1] on device, no sync. */
  clipCoefficient(coef: Tensor, norm: Tensor, sumsq: Tensor, maxNorm: number): void {
    this.own('clipCoefficient', coef, norm, sumsq);
    this.dtypes('clipCoefficient', 'f32', coef, norm, sumsq);
    this.check('clipCoefficient', this.lib.lk_clip_coef(coef.ptr, norm.ptr, sumsq.ptr, maxNorm));
  }

  /** Fused AdamW (decoupled weight decay) over flat fp32 master weights, grads and moments. */
  adamw(master: Tensor, grad: Tensor, m: Tensor, v: Tensor, opts: AdamWOptions): void {
    const { working, gradScale } = opts;
    this.own('adamw', master, grad, m, v, working, gradScale);
    this.dtypes('adamw', 'f32', master, grad, m, v, gradScale);
    for (const t of [grad, m, v, working]) if (t && t.numel !== master.numel) throw new Error(`kernels.adamw: ${t} vs ${master}`);
    this.check(
      'adamw',
      this.lib.lk_adamw(master.ptr, grad.ptr, m.ptr, v.ptr, working?.ptr ?? 0, DTYPE_CODE[working?.dtype ?? 'f32'], master.numel, opts.lr, opts.beta1 ?? 0.9, opts.beta2 ?? 0.95, opts.eps ?? 1e-8, opts.weightDecay ?? 0, opts.step, gradScale?.ptr ?? 0),
    );
  }

  // ---- sampling ----

  /**
   * Draws one token per row of logits (fp32 [B, V]) into out (int32 [B]) under each row's settings
   * (`rows`: packSampleRows, uploaded as int32 [B · SAMPLE_ROW_WORDS]).
   */
  sample(out: Tensor, logits: Tensor, rows: Tensor, opts: SampleOptions = {}): void {
    const { logprobs, history } = opts;
    this.own('sample', out, logits, rows, logprobs, history);
    const V = last(logits), B = logits.numel / V;
    this.dtypes('sample', 'f32', logits, logprobs);
    this.dtypes('sample', 'i32', out, rows, history);
    if (out.numel !== B || rows.numel !== B * SAMPLE_ROW_WORDS || (logprobs && logprobs.numel !== B))
      throw new Error(`kernels.sample: out ${out}, rows ${rows}, logprobs ${logprobs} must hold ${B} rows`);
    const P = history ? last(history) : 0;
    this.check('sample', this.lib.lk_sample(out.ptr, logprobs?.ptr ?? 0, logits.ptr, rows.ptr, history?.ptr ?? 0, B, V, P));
  }

  // ---- graphs ----

  /**
   * Records the work `record` queues into a graph that `launch` replays (CUDA), or null where the
   * backend runs work as it is called (CPU): callers then simply call their function each time.
   */
  captureGraph(record: () => void): Graph | null {
    if (this.kind === 'cpu') return null;
    this.check('captureGraph', this.lib.lk_graph_begin());
    const out = [0];
    let recorded = false;
    try {
      record();
      recorded = true;
    } finally {
      // ends the capture even when recording failed, so the stream is usable again
      const rc = this.lib.lk_graph_end(out);
      if (recorded) this.check('captureGraph', rc);
    }
    const handle = out[0]!;
    return {
      launch: () => this.check('graphLaunch', this.lib.lk_graph_launch(handle)),
      destroy: () => this.check('graphDestroy', this.lib.lk_graph_destroy(handle)),
    };
  }

  // ---- NCCL (CUDA only; one process per GPU) ----

  /** 128-byte NCCL id created by rank 0 and shared with the other ranks (file, env, socket). */
  ncclUniqueId(): Uint8Array {
    const id = new Uint8Array(128);
    this.check('ncclUniqueId', this.lib.lk_nccl_unique_id(id));
    return id;
  }

  ncclInit(world: number, rank: number, id: Uint8Array): void {
    if (id.length !== 128) throw new Error('kernels.ncclInit: the id must be 128 bytes');
    this.check('ncclInit', this.lib.lk_nccl_init(world, rank, id));
  }

  /** Sum (or average) across ranks, in place. */
  allReduce(t: Tensor, average = false): void {
    this.own('allReduce', t);
    this.check('allReduce', this.lib.lk_nccl_all_reduce(t.ptr, t.numel, DTYPE_CODE[t.dtype], average ? 1 : 0));
  }

  broadcast(t: Tensor, root = 0): void {
    this.own('broadcast', t);
    this.check('broadcast', this.lib.lk_nccl_broadcast(t.ptr, t.numel, DTYPE_CODE[t.dtype], root));
  }

  ncclDestroy(): void {
    this.check('ncclDestroy', this.lib.lk_nccl_destroy());
  }
}
