// CUDA backend: LM head fused with cross-entropy, chunked over the rows. Each chunk of R rows
// gets its logits over the whole vocabulary from one GEMM (in the compute dtype, as PyTorch's
// autocast produces them), one kernel per row turns them into the loss and, in place, into
// dlogits, and two GEMMs take dh (overwritten) and dw (accumulated in fp32). Three GEMMs in all,
// none recomputed: chunking over the vocabulary instead (the CPU's scheme) needs the row's
// log-sum-exp before any gradient, hence a second logits GEMM. R is as large as the workspace's
// logits region allows, so dw is read and written only a few times.
#include "common.cuh"

using namespace lk;

namespace {

constexpr int CE_THREADS = 512;

// (max, sum of exp(x - max)) merged with one more value
__device__ __forceinline__ void online_add(float &m, float &s, float x) {
  if (x > m) {
    s = s * __expf(m - x) + 1.f;
    m = x;
  } else {
    s += __expf(x - m);
  }
}

// One block per row of a chunk: losses[n] = lse - logit[target]; with `grad`, the row becomes
// (softmax - onehot) * scale * weights[n] in place (zeros for an ignored target).
template <typename T>
__global__ void __launch_bounds__(CE_THREADS) ce_rows(T *logits, float *losses, const int32_t *targets,
                                                      const float *weights, int64_t V, float scale, bool grad, bool vec) {
  __shared__ float buf[32];
  const int64_t n = blockIdx.x;
  T *row = logits + n * V;
  const int32_t t = targets[n];
  const float target_logit = t >= 0 ? ld(row, t) : 0.f;  // read before any thread overwrites the row
  const int64_t groups = vec ? V / VEC : 0;
  float m = -INFINITY, s = 0.f;
  for (int64_t g = threadIdx.x; g < groups; g += blockDim.x) {
    float x[VEC];
    load8(x, row + g * VEC);
#pragma unroll
    for (int e = 0; e < VEC; ++e) online_add(m, s, x[e]);
  }
  for (int64_t j = groups * VEC + threadIdx.x; j < V; j += blockDim.x) online_add(m, s, ld(row, j));
  const float M = block_max(m, buf);
  const float S = block_sum(m == -INFINITY ? 0.f : s * __expf(m - M), buf);
  const float lse = M + logf(S);
  if (threadIdx.x == 0) losses[n] = t < 0 ? 0.f : lse - target_logit;
  if (!grad) return;
  const float k = t < 0 ? 0.f : weights ? scale * weights[n] : scale;
  for (int64_t g = threadIdx.x; g < groups; g += blockDim.x) {
    float x[VEC];
    load8(x, row + g * VEC);
#pragma unroll
    for (int e = 0; e < VEC; ++e) x[e] = (__expf(x[e] - lse) - (g * VEC + e == t ? 1.f : 0.f)) * k;
    store8(row + g * VEC, x);
  }
  for (int64_t j = groups * VEC + threadIdx.x; j < V; j += blockDim.x)
    st(row, j, (__expf(ld(row, j) - lse) - (j == t ? 1.f : 0.f)) * k);
}

__global__ void check_targets(const int32_t *targets, int64_t N, int64_t V, int *bad) {
  for (int64_t n = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; n < N; n += (int64_t)gridDim.x * blockDim.x)
    if (targets[n] >= V) atomicCAS(bad, -1, (int)n);
}

// Refuses a target outside the vocabulary with its position (one host sync).
int check_vocabulary(const int32_t *targets, int64_t N, int64_t V) {
  int *bad = static_cast<int *>(scratch(sizeof(int), SCRATCH_BAD_ID));
  if (!bad) return fail(LK_ERR_OOM, "lmhead_ce: scratch allocation failed");
  LK_CHECK(cuda_check(cudaMemsetAsync(bad, 0xff, sizeof(int), g_stream), "lmhead_ce"));
  check_targets<<<blocks_for(N, 256), 256, 0, g_stream>>>(targets, N, V, bad);
  int where = -1;
  LK_CHECK(cuda_check(cudaMemcpyAsync(&where, bad, sizeof(int), cudaMemcpyDeviceToHost, g_stream), "lmhead_ce"));
  LK_CHECK(cuda_check(cudaStreamSynchronize(g_stream), "lmhead_ce"));
  if (where < 0) return LK_OK;
  int32_t t = 0;
  cudaMemcpy(&t, targets + where, sizeof t, cudaMemcpyDeviceToHost);
  return fail(LK_ERR_ARG, "lmhead_ce: target %d at position %d is outside the vocabulary [0, %ld)", t, where, (long)V);
}

}  // namespace

extern "C" int lk_lmhead_ce(lk_ptr losses, lk_ptr dh, lk_ptr dw, lk_ptr h, lk_ptr w, lk_ptr targets, lk_ptr weights,
                            int64_t N, int64_t C, int64_t V, int64_t chunk, float grad_scale, lk_ptr workspace, int dt) {
  LK_REQUIRE(chunk > 0, "lmhead_ce: chunk must be positive");
  LK_REQUIRE(dh || !dw, "lmhead_ce: dw needs dh");
  LK_REQUIRE(dt == LK_F32 || dt == LK_BF16, "lmhead_ce: dtype %d is not fp32 or bf16", dt);
  const int32_t *tg = at<int32_t>(targets);
  LK_CHECK(check_vocabulary(tg, N, V));
  const int64_t es = dt == LK_BF16 ? 2 : 4;
  const int64_t rows = std::min<int64_t>(N, LK_LMHEAD_LOGITS(N, chunk, V) * 4 / (V * es));
  // 16-byte row accesses need every row start aligned: an aligned workspace and V a multiple of 8
  const bool vec = V % VEC == 0 && (workspace & 15) == 0;
  char *logits = at<char>(workspace);
  const char *H = at<char>(h), *W = at<char>(w);
  for (int64_t r0 = 0; r0 < N; r0 += rows) {
    const int64_t R = std::min(rows, N - r0);
    const char *Hr = H + r0 * C * es;
    LK_CHECK(gemm(false, true, R, V, C, 1.f, Hr, C, W, C, 0.f, logits, V, dt, dt));
    LK_DISPATCH(dt, "lmhead_ce",
                ce_rows<T><<<(unsigned)R, CE_THREADS, 0, g_stream>>>(reinterpret_cast<T *>(logits), at<float>(losses) + r0,
                                                                    tg + r0, weights ? at<float>(weights) + r0 : nullptr, V,
                                                                    grad_scale, dh != 0, vec));
    LK_CHECK(launch_check("lmhead_ce"));
    if (!dh) continue;
    LK_CHECK(gemm(false, false, R, C, V, 1.f, logits, V, W, C, 0.f, at<char>(dh) + r0 * C * es, C, dt, dt));
    if (dw) LK_CHECK(gemm(true, false, V, C, R, 1.f, logits, V, Hr, C, 1.f, at<float>(dw), C, dt, LK_F32));
  }
  return LK_OK;
}
