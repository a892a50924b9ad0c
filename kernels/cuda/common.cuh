// Internal helpers of the CUDA backend.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "../include/lk_errors.h"
#include "../include/lk_shared.h"

namespace lk {

extern cudaStream_t g_stream;
extern int g_sm_count;
extern int g_cc_major;  // compute capability of the device in use
extern bool g_pdl;      // launch() uses programmatic dependent launch (sm_90+, unless LOOM_PDL=0)
extern bool g_batch_invariant;  // lk_set_batch_invariant: one reduction order whatever the row count
int gemm_init();  // creates the cuBLASLt handle (gemm.cu)

// Scratch owned by the library for ops whose ABI has no workspace argument; each slot only grows,
// so steady-state calls never allocate. Work queued on one stream at a time may share a slot. A
// slot that grows keeps its old buffer allocated: a recorded graph may still point at it.
enum ScratchSlot {
  SCRATCH_GEMM,     // the cuBLASLt workspace
  SCRATCH_SAMPLE,   // sampling's penalised rows
  SCRATCH_SAMPLE_ROWS,  // sampling's per-row phase state, partial results, candidates and bins
  SCRATCH_REDUCE,   // partial sums (reduce.cu) and the embedding backward's sorted positions
  SCRATCH_BAD_ID,   // the bad-token-id flag
  SCRATCH_SLOTS
};
void *scratch(size_t bytes, ScratchSlot slot);

// Deterministic sums (reduce.cu): kernels write per-block partial sums to `partials` instead of
// adding them with fp32 atomics, whose order (and so last bits) changes from run to run; then
// dst[j] += partials[0 * n + j] + partials[1 * n + j] + ... over `splits` rows, in that order.
float *partial_sums(int64_t count);
int add_partials(float *dst, const float *partials, int64_t splits, int64_t n);

template <typename T>
inline T *at(lk_ptr p) {
  return reinterpret_cast<T *>(static_cast<uintptr_t>(p));
}

// Eight elements through one or two 16-byte accesses (the pointer must be 16-byte aligned): with
// one 2-byte access per thread too few bytes are in flight to fill HBM.
constexpr int VEC = 8;

__device__ __forceinline__ void load8(float (&v)[VEC], const float *p) {
  const float4 a = reinterpret_cast<const float4 *>(p)[0], b = reinterpret_cast<const float4 *>(p)[1];
  v[0] = a.x, v[1] = a.y, v[2] = a.z, v[3] = a.w, v[4] = b.x, v[5] = b.y, v[6] = b.z, v[7] = b.w;
}
__device__ __forceinline__ void load8(float (&v)[VEC], const __nv_bfloat16 *p) {
  const uint4 u = *reinterpret_cast<const uint4 *>(p);
  const __nv_bfloat162 *h = reinterpret_cast<const __nv_bfloat162 *>(&u);
#pragma unroll
  for (int k = 0; k < 4; ++k) {
    const float2 f = __bfloat1622float2(h[k]);
    v[2 * k] = f.x, v[2 * k + 1] = f.y;
  }
}
__device__ __forceinline__ void store8(float *p, const float (&v)[VEC]) {
  reinterpret_cast<float4 *>(p)[0] = make_float4(v[0], v[1], v[2], v[3]);
  reinterpret_cast<float4 *>(p)[1] = make_float4(v[4], v[5], v[6], v[7]);
}
__device__ __forceinline__ void store8(__nv_bfloat16 *p, const float (&v)[VEC]) {
  uint4 u;
  __nv_bfloat162 *h = reinterpret_cast<__nv_bfloat162 *>(&u);
#pragma unroll
  for (int k = 0; k < 4; ++k) h[k] = __floats2bfloat162_rn(v[2 * k], v[2 * k + 1]);
  *reinterpret_cast<uint4 *>(p) = u;
}

// Checks the last launch; the op name makes the message actionable.
int launch_check(const char *op);
int cuda_check(cudaError_t e, const char *op);

// Programmatic dependent launch (sm_90+). A decode step is a chain of short kernels, and the gap
// between one kernel's end and the next one's start is a large part of each. A kernel launched
// with launch() may be scheduled while the kernel before it still runs; it must call pdl_wait()
// before it touches memory, which returns once that kernel has finished and its writes are
// visible, and then lets the kernel after it be scheduled in turn. Elsewhere (older cards, kernels
// launched with <<<>>>) pdl_wait() returns at once and the stream orders kernels as usual.
__device__ __forceinline__ void pdl_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

template <typename... Params, typename... Args>
void launch(void (*kernel)(Params...), dim3 grid, dim3 block, size_t smem, Args... args) {
  cudaLaunchAttribute attr;
  attr.id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attr.val.programmaticStreamSerializationAllowed = 1;
  cudaLaunchConfig_t cfg = {};
  cfg.gridDim = grid, cfg.blockDim = block, cfg.dynamicSmemBytes = smem, cfg.stream = g_stream;
  cfg.attrs = &attr, cfg.numAttrs = g_pdl ? 1 : 0;
  cudaLaunchKernelEx(&cfg, kernel, static_cast<Params>(args)...);  // errors surface in launch_check
}

__device__ __forceinline__ float ld(const float *p, int64_t i) { return p[i]; }
__device__ __forceinline__ float ld(const __nv_bfloat16 *p, int64_t i) { return __bfloat162float(p[i]); }
__device__ __forceinline__ void st(float *p, int64_t i, float v) { p[i] = v; }
__device__ __forceinline__ void st(__nv_bfloat16 *p, int64_t i, float v) { p[i] = __float2bfloat16_rn(v); }

inline int blocks_for(int64_t n, int threads, int64_t cap = 65535LL * 16) {
  int64_t b = (n + threads - 1) / threads;
  return (int)(b < 1 ? 1 : (b > cap ? cap : b));
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Block-wide sum; every thread gets the result. `buf` holds 32 floats of shared memory.
__device__ __forceinline__ float block_sum(float v, float *buf) {
  v = warp_sum(v);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
  __syncthreads();
  if (lane == 0) buf[warp] = v;
  __syncthreads();
  v = lane < nw ? buf[lane] : 0.f;
  return warp_sum(v);
}
__device__ __forceinline__ float block_max(float v, float *buf) {
  v = warp_max(v);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
  __syncthreads();
  if (lane == 0) buf[warp] = v;
  __syncthreads();
  v = lane < nw ? buf[lane] : -INFINITY;
  return warp_max(v);
}

// Runs `body` with T bound to the C++ type of an fp32/bf16 dtype tag.
#define LK_DISPATCH(dt, op, ...)                                                           \
  do {                                                                                     \
    if ((dt) == LK_F32) {                                                                  \
      using T = float;                                                                     \
      __VA_ARGS__;                                                                         \
    } else if ((dt) == LK_BF16) {                                                          \
      using T = __nv_bfloat16;                                                             \
      __VA_ARGS__;                                                                         \
    } else {                                                                               \
      return ::lk::fail(LK_ERR_UNSUPPORTED, "%s: dtype %d is not fp32 or bf16", op, (int)(dt)); \
    }                                                                                      \
  } while (0)

// Row-major GEMM through cuBLASLt (see gemm.cu). bias (length N, ab type) is fused when given.
int gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const void *A, int64_t lda, const void *B,
         int64_t ldb, float beta, void *C, int64_t ldc, int ab_dt, int c_dt, const void *bias = nullptr);

// Products of at most GEMV_MAX_ROWS bf16 rows with a weight read once (gemv.cu): a decode step's
// linear layers and LM head. gemv_serves says whether the shape and addresses suit it.
constexpr int GEMV_MAX_ROWS = 8;
bool gemv_serves(int64_t M, int64_t K, int ab_dt, const void *x, const void *w);
int gemv(int64_t M, int64_t N, int64_t K, const void *x, const void *w, void *y, int c_dt, const void *bias);

// Tensor-core attention (attention_tc.cu); LK_ERR_UNSUPPORTED when the shape or dtype
// is not one it serves. seq_start/seq_end: packed rows' sequence bounds (see lk_attention_fwd).
int attention_fwd_tc(lk_ptr out, lk_ptr lse, lk_ptr q, lk_ptr k, lk_ptr v, int64_t B, int64_t T_, int64_t Hq,
                     int64_t Hkv, int64_t D, float scale, int64_t window, lk_ptr seq_start, lk_ptr seq_end, int dt);
int attention_bwd_tc(lk_ptr dq, lk_ptr dk, lk_ptr dv, lk_ptr dout, lk_ptr lse, const float *dsum, lk_ptr q, lk_ptr k,
                     lk_ptr v, int64_t B, int64_t T_, int64_t Hq, int64_t Hkv, int64_t D, float scale, int64_t window,
                     lk_ptr seq_start, lk_ptr seq_end, int dt);
// The same on Hopper's warpgroup products (attention_wgmma.cu): sm_90 devices, sm_90a builds.
int attention_fwd_wgmma(lk_ptr out, lk_ptr lse, lk_ptr q, lk_ptr k, lk_ptr v, int64_t B, int64_t T_, int64_t Hq,
                        int64_t Hkv, int64_t D, float scale, int64_t window, lk_ptr seq_start, lk_ptr seq_end, int dt);
int attention_bwd_wgmma(lk_ptr dq, lk_ptr dk, lk_ptr dv, lk_ptr dout, lk_ptr lse, const float *dsum, lk_ptr q,
                        lk_ptr k, lk_ptr v, int64_t B, int64_t T_, int64_t Hq, int64_t Hkv, int64_t D, float scale,
                        int64_t window, lk_ptr seq_start, lk_ptr seq_end, int dt);

}  // namespace lk
