// Loads one kernel library (CPU or CUDA) through koffi and declares the C ABI of
// kernels/include/loom_kernels.h. Both libraries export the same symbols.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import koffi, { type LibraryHandle } from 'koffi';

export type BackendKind = 'cpu' | 'cuda';

// Device addresses travel as uint64 numbers (x86-64/arm64 addresses fit in 2^53).
export const SIGNATURES = {
  lk_backend: 'const char *lk_backend()',
  lk_last_error: 'const char *lk_last_error()',
  lk_device_count: 'int lk_device_count()',
  lk_device_name: 'int lk_device_name(int device, uint8_t *out, int out_len)',
  lk_init: 'int lk_init(int device)',
  lk_num_threads: 'int lk_num_threads()',
  lk_synchronize: 'int lk_synchronize()',
  lk_stream_create: 'int lk_stream_create(_Out_ uint64_t *out)',
  lk_stream_destroy: 'int lk_stream_destroy(uint64_t s)',
  lk_set_stream: 'int lk_set_stream(uint64_t s)',
  lk_set_batch_invariant: 'int lk_set_batch_invariant(int on)',
  lk_event_create: 'int lk_event_create(_Out_ uint64_t *out)',
  lk_event_destroy: 'int lk_event_destroy(uint64_t e)',
  lk_event_record: 'int lk_event_record(uint64_t e)',
  lk_stream_wait_event: 'int lk_stream_wait_event(uint64_t e)',
  lk_malloc: 'int lk_malloc(size_t bytes, _Out_ uint64_t *out)',
  lk_free: 'int lk_free(uint64_t p)',
  lk_copy_h2d: 'int lk_copy_h2d(uint64_t dst, const void *src, size_t bytes)',
  lk_copy_d2h: 'int lk_copy_d2h(void *dst, uint64_t src, size_t bytes)',
  lk_copy_d2d: 'int lk_copy_d2d(uint64_t dst, uint64_t src, size_t bytes)',
  lk_memset0: 'int lk_memset0(uint64_t p, size_t bytes)',
  lk_fill: 'int lk_fill(uint64_t x, int64_t n, float value, int dt)',
  lk_mem_info: 'int lk_mem_info(_Out_ size_t *free_bytes, _Out_ size_t *total_bytes)',
  lk_cast: 'int lk_cast(uint64_t dst, int dst_dt, uint64_t src, int src_dt, int64_t n)',
  lk_add: 'int lk_add(uint64_t out, uint64_t a, uint64_t b, int64_t n, int dt)',
  lk_axpy: 'int lk_axpy(uint64_t y, float alpha, uint64_t x, int64_t n, int dt)',
  lk_scale: 'int lk_scale(uint64_t x, float alpha, int64_t n, int dt)',
  lk_sum: 'int lk_sum(uint64_t out, uint64_t x, int64_t n, int dt, int accumulate)',
  lk_sumsq: 'int lk_sumsq(uint64_t out, uint64_t x, int64_t n, int dt, int accumulate)',
  lk_gemm:
    'int lk_gemm(int ta, int tb, int64_t M, int64_t N, int64_t K, float alpha, uint64_t A, int64_t lda, uint64_t B, int64_t ldb, float beta, uint64_t C, int64_t ldc, int ab_dt, int c_dt)',
  lk_linear_fwd: 'int lk_linear_fwd(uint64_t y, uint64_t x, uint64_t w, uint64_t b, int64_t M, int64_t K, int64_t N, int dt)',
  lk_linear_bwd:
    'int lk_linear_bwd(uint64_t dx, uint64_t dw, uint64_t db, uint64_t dy, uint64_t x, uint64_t w, int64_t M, int64_t K, int64_t N, int dt)',
  lk_embedding_fwd: 'int lk_embedding_fwd(uint64_t out, uint64_t ids, uint64_t table, int64_t N, int64_t V, int64_t C, int dt)',
  lk_embedding_bwd: 'int lk_embedding_bwd(uint64_t dtable, uint64_t dout, uint64_t ids, int64_t N, int64_t V, int64_t C, int dt)',
  lk_rmsnorm_fwd: 'int lk_rmsnorm_fwd(uint64_t y, uint64_t rstd, uint64_t x, uint64_t w, int64_t N, int64_t C, float eps, int dt)',
  lk_rmsnorm_bwd:
    'int lk_rmsnorm_bwd(uint64_t dx, uint64_t dw, uint64_t dy, uint64_t x, uint64_t w, uint64_t rstd, int64_t N, int64_t C, int dt)',
  lk_add_rmsnorm_fwd:
    'int lk_add_rmsnorm_fwd(uint64_t sum, uint64_t y, uint64_t rstd, uint64_t a, uint64_t b, uint64_t w, int64_t N, int64_t C, float eps, int dt)',
  lk_rope:
    'int lk_rope(uint64_t out, uint64_t x, uint64_t pos, int64_t pos_len, int64_t B, int64_t T, int64_t H, int64_t D, float base, uint64_t bases, int64_t logn_len, int inverse, int dt)',
  lk_attention_fwd:
    'int lk_attention_fwd(uint64_t out, uint64_t lse, uint64_t q, uint64_t k, uint64_t v, int64_t B, int64_t T, int64_t Hq, int64_t Hkv, int64_t D, float scale, int64_t window, uint64_t seq_start, uint64_t seq_end, int dt)',
  lk_attention_bwd:
    'int lk_attention_bwd(uint64_t dq, uint64_t dk, uint64_t dv, uint64_t dout, uint64_t out, uint64_t lse, uint64_t q, uint64_t k, uint64_t v, uint64_t scratch, int64_t B, int64_t T, int64_t Hq, int64_t Hkv, int64_t D, float scale, int64_t window, uint64_t seq_start, uint64_t seq_end, int dt)',
  lk_rope_append:
    'int lk_rope_append(uint64_t q, uint64_t kc, uint64_t vc, uint64_t qkv, uint64_t pos, uint64_t slot, int64_t N, int64_t S, int64_t Tmax, int64_t Hq, int64_t Hkv, int64_t D, float base, uint64_t bases, int64_t logn_len, int dt)',
  lk_kv_append:
    'int lk_kv_append(uint64_t kc, uint64_t vc, uint64_t k, uint64_t v, uint64_t slot, uint64_t pos, int64_t N, int64_t S, int64_t Tmax, int64_t Hkv, int64_t D, int dt)',
  lk_attention_decode:
    'int lk_attention_decode(uint64_t out, uint64_t q, uint64_t kc, uint64_t vc, uint64_t slot, uint64_t pos, int64_t B, int64_t Tq, int64_t S, int64_t Tmax, int64_t Hq, int64_t Hkv, int64_t D, float scale, int64_t window, uint64_t workspace, int dt)',
  lk_swiglu_fwd: 'int lk_swiglu_fwd(uint64_t out, uint64_t gate, uint64_t up, int64_t n, int dt)',
  lk_swiglu_joined_fwd: 'int lk_swiglu_joined_fwd(uint64_t out, uint64_t gate_up, int64_t rows, int64_t F, int dt)',
  lk_swiglu_bwd: 'int lk_swiglu_bwd(uint64_t dgate, uint64_t dup, uint64_t dout, uint64_t gate, uint64_t up, int64_t n, int dt)',
  lk_dropout_fwd: 'int lk_dropout_fwd(uint64_t out, uint64_t x, int64_t n, float p, uint64_t seed, int dt)',
  lk_dropout_bwd: 'int lk_dropout_bwd(uint64_t dx, uint64_t dout, int64_t n, float p, uint64_t seed, int dt)',
  lk_lmhead_ce:
    'int lk_lmhead_ce(uint64_t losses, uint64_t dh, uint64_t dw, uint64_t h, uint64_t w, uint64_t targets, uint64_t weights, int64_t N, int64_t C, int64_t V, int64_t chunk, float grad_scale, uint64_t workspace, int dt)',
  lk_clip_coef: 'int lk_clip_coef(uint64_t coef, uint64_t norm, uint64_t sumsq, float max_norm)',
  lk_adamw:
    'int lk_adamw(uint64_t master, uint64_t grad, uint64_t m, uint64_t v, uint64_t working, int working_dt, int64_t n, float lr, float beta1, float beta2, float eps, float wd, int64_t step, uint64_t grad_scale)',
  lk_sample: 'int lk_sample(uint64_t out, uint64_t logprobs, uint64_t logits, uint64_t rows, uint64_t history, int64_t B, int64_t V, int64_t P)',
  lk_graph_begin: 'int lk_graph_begin()',
  lk_graph_end: 'int lk_graph_end(_Out_ uint64_t *out)',
  lk_graph_launch: 'int lk_graph_launch(uint64_t g)',
  lk_graph_destroy: 'int lk_graph_destroy(uint64_t g)',
  lk_nccl_unique_id: 'int lk_nccl_unique_id(_Out_ uint8_t *out128)',
  lk_nccl_init: 'int lk_nccl_init(int world, int rank, const uint8_t *id128)',
  lk_nccl_all_reduce: 'int lk_nccl_all_reduce(uint64_t buf, int64_t n, int dt, int average)',
  lk_nccl_broadcast: 'int lk_nccl_broadcast(uint64_t buf, int64_t n, int dt, int root)',
  lk_nccl_destroy: 'int lk_nccl_destroy()',
} as const;

export type NativeLib = { -readonly [K in keyof typeof SIGNATURES]: (...args: any[]) => any };

/** Directory holding libloom_cpu/libloom_cuda: LOOM_KERNELS_DIR, else kernels/build of this package. */
export function libraryDir(): string {
  if (process.env.LOOM_KERNELS_DIR) return process.env.LOOM_KERNELS_DIR;
  const here = dirname(fileURLToPath(import.meta.url));
  // from source: kernels/index.ts; compiled: dist/kernels/index.js
  for (const dir of [join(here, 'build'), join(here, '..', '..', 'kernels', 'build')]) if (existsSync(dir)) return dir;
  return join(here, 'build');
}

export function libraryPath(kind: BackendKind): string {
  const ext = process.platform === 'darwin' ? 'dylib' : 'so';
  return join(libraryDir(), `libloom_${kind}.${ext}`);
}

const loaded = new Map<BackendKind, NativeLib>();

/** Loads a backend library once per process; throws with the path and the fix when it is missing. */
export function loadNative(kind: BackendKind): NativeLib {
  const cached = loaded.get(kind);
  if (cached) return cached;
  const path = libraryPath(kind);
  if (!existsSync(path)) {
    const how = kind === 'cpu' ? 'npm run build:kernels' : 'npm run build:cuda (needs nvcc)';
    throw new Error(`kernels: ${path} is missing; build it with \`${how}\``);
  }
  // OpenMP threads sleep rather than spin at barriers unless the user chose otherwise: with
  // libgomp's spinning default a shared or oversubscribed CPU stalls whenever one thread is
  // descheduled (on a loaded 2-core box the tiny model's fused LM head took 22.2 s spinning
  // against 1.3 s passive). libgomp reads the variable when the library loads.
  process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
  let lib: LibraryHandle;
  try {
    lib = koffi.load(path);
  } catch (err) {
    throw new Error(`kernels: cannot load ${path}: ${(err as Error).message}`);
  }
  const fns = {} as NativeLib;
  for (const [name, sig] of Object.entries(SIGNATURES)) fns[name as keyof NativeLib] = lib.func(sig);
  loaded.set(kind, fns);
  return fns;
}
