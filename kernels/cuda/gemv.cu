// Decode-sized products: y[M,N] = x[M,K] · w[N,K]ᵀ (+ b) for a handful of rows (a decode step's
// linear layers and LM head). cuBLASLt's kernels for so few rows cost several launch latencies
// more than reading the weights does; here one warp reads one weight row once, with 16-byte
// loads, for every input row. Each row's sum runs in the same order whatever M is, so a row's
// result does not depend on the other rows of the batch. Batch-invariant mode
// (lk_set_batch_invariant) sends products of any row count here, in groups of GEMV_MAX_ROWS rows
// (grid.y), for that reason.
#include <cstdlib>

#include "common.cuh"

namespace lk {
namespace {

constexpr int GEMV_WARPS = 8;

__device__ __forceinline__ void st(float *p, int64_t i, float v) { p[i] = v; }
__device__ __forceinline__ void st(__nv_bfloat16 *p, int64_t i, float v) { p[i] = __float2bfloat16(v); }

// Weights are read once per step: a non-caching load keeps L1 for the input rows.
__device__ __forceinline__ uint4 ld_streaming(const uint4 *p) {
  uint4 v;
  asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
               : "l"(p));
  return v;
}

__device__ __forceinline__ float dot8(const uint4 &a, const uint4 &b) {
  const __nv_bfloat162 *pa = reinterpret_cast<const __nv_bfloat162 *>(&a);
  const __nv_bfloat162 *pb = reinterpret_cast<const __nv_bfloat162 *>(&b);
  float s = 0.f;
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    const float2 fa = __bfloat1622float2(pa[j]), fb = __bfloat1622float2(pb[j]);
    s = fmaf(fa.x, fb.x, s);
    s = fmaf(fa.y, fb.y, s);
  }
  return s;
}

template <typename TOut, int MR>
__global__ void __launch_bounds__(GEMV_WARPS * 32)
    gemv_kernel(TOut *y, const __nv_bfloat16 *x, const __nv_bfloat16 *w, const __nv_bfloat16 *bias, int M, int64_t K,
                int64_t N) {
  pdl_wait();
  const int64_t group = (int64_t)blockIdx.y * MR;
  x += group * K, y += group * N, M -= (int)group;
  const int lane = threadIdx.x & 31;
  const int64_t n = blockIdx.x * (int64_t)GEMV_WARPS + (threadIdx.x >> 5);
  if (n >= N) return;
  float acc[MR];
#pragma unroll
  for (int m = 0; m < MR; ++m) acc[m] = 0.f;
  const uint4 *wrow = reinterpret_cast<const uint4 *>(w + n * K);
  const uint4 *xrows = reinterpret_cast<const uint4 *>(x);
  const int64_t chunks = K / 8;
  for (int64_t c = lane; c < chunks; c += 32) {
    const uint4 wv = ld_streaming(wrow + c);
#pragma unroll
    for (int m = 0; m < MR; ++m)
      if (m < M) acc[m] += dot8(wv, __ldg(xrows + m * chunks + c));
  }
#pragma unroll
  for (int m = 0; m < MR; ++m)
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) acc[m] += __shfl_xor_sync(0xffffffffu, acc[m], o);
  if (lane != 0) return;
  const float b = bias ? __bfloat162float(bias[n]) : 0.f;
#pragma unroll
  for (int m = 0; m < MR; ++m)
    if (m < M) st(y, m * N + n, acc[m] + b);
}

template <typename TOut>
void launch_gemv(TOut *y, const __nv_bfloat16 *x, const __nv_bfloat16 *w, const __nv_bfloat16 *bias, int M, int64_t K,
                 int64_t N) {
  const dim3 grid((unsigned)((N + GEMV_WARPS - 1) / GEMV_WARPS), (unsigned)((M + GEMV_MAX_ROWS - 1) / GEMV_MAX_ROWS)),
      block(GEMV_WARPS * 32);
  if (M == 1) launch(gemv_kernel<TOut, 1>, grid, block, 0, y, x, w, bias, M, K, N);
  else if (M == 2) launch(gemv_kernel<TOut, 2>, grid, block, 0, y, x, w, bias, M, K, N);
  else if (M <= 4) launch(gemv_kernel<TOut, 4>, grid, block, 0, y, x, w, bias, M, K, N);
  else launch(gemv_kernel<TOut, GEMV_MAX_ROWS>, grid, block, 0, y, x, w, bias, M, K, N);
}

bool aligned16(const void *p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

}  // namespace

bool gemv_serves(int64_t M, int64_t K, int ab_dt, const void *x, const void *w) {
  // LOOM_NO_GEMV=1 sends these products to cuBLASLt too, to compare the two in one build
  static const bool off = getenv("LOOM_NO_GEMV") != nullptr && getenv("LOOM_NO_GEMV")[0] == '1';
  return !off && M >= 1 && (M <= GEMV_MAX_ROWS || g_batch_invariant) && ab_dt == LK_BF16 && K % 8 == 0 && aligned16(x) && aligned16(w);
}

int gemv(int64_t M, int64_t N, int64_t K, const void *x, const void *w, void *y, int c_dt, const void *bias) {
  const auto *xb = static_cast<const __nv_bfloat16 *>(x), *wb = static_cast<const __nv_bfloat16 *>(w);
  const auto *bb = static_cast<const __nv_bfloat16 *>(bias);
  if (c_dt == LK_F32) launch_gemv(static_cast<float *>(y), xb, wb, bb, (int)M, K, N);
  else launch_gemv(static_cast<__nv_bfloat16 *>(y), xb, wb, bb, (int)M, K, N);
  return launch_check("gemv");
}

}  // namespace lk
