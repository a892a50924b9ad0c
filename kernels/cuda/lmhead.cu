// CUDA backend: LM head fused with cross-entropy, chunked over the vocabulary (see cpu/lmhead.cpp
// for the two-pass scheme). Logits of a chunk are an fp32 cuBLASLt output; dlogits go back to
// the input dtype for the two gradient GEMMs, and dh accumulates in fp32 across chunks.
#include "common.cuh"

using namespace lk;

namespace {

__global__ void ce_stats(const float *logits, int64_t vc, float *mx, float *se, float *tgt, const int32_t *targets,
                         int64_t v0) {
  __shared__ float buf[32];
  const int64_t n = blockIdx.x;
  const float *row = logits + n * vc;
  float m = -INFINITY;
  for (int64_t j = threadIdx.x; j < vc; j += blockDim.x) m = fmaxf(m, row[j]);
  m = block_max(m, buf);
  const float mo = mx[n], mn = fmaxf(mo, m);
  float s = 0.f;
  for (int64_t j = threadIdx.x; j < vc; j += blockDim.x) s += __expf(row[j] - mn);
  s = block_sum(s, buf);
  if (threadIdx.x == 0) {
    se[n] = se[n] * __expf(mo - mn) + s;
    mx[n] = mn;
    const int32_t t = targets[n];
    if (t >= v0 && t < v0 + vc) tgt[n] = row[t - v0];
  }
}

__global__ void ce_init(float *mx, float *se, float *losses, int64_t N) {
  for (int64_t n = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; n < N; n += (int64_t)gridDim.x * blockDim.x)
    mx[n] = -INFINITY, se[n] = 0.f, losses[n] = 0.f;
}

// se becomes the log-sum-exp; losses = lse - target logit (0 when ignored)
__global__ void ce_finish(float *mx, float *se, float *losses, const int32_t *targets, int64_t N) {
  for (int64_t n = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; n < N; n += (int64_t)gridDim.x * blockDim.x) {
    se[n] = mx[n] + logf(se[n]);
    losses[n] = targets[n] < 0 ? 0.f : se[n] - losses[n];
  }
}

template <typename T>
__global__ void ce_grad(T *dlogits, const float *logits, int64_t vc, const float *lse, const int32_t *targets,
                        int64_t v0, float scale) {
  const int64_t n = blockIdx.x;
  const int32_t t = targets[n];
  const float l = lse[n];
  for (int64_t j = threadIdx.x; j < vc; j += blockDim.x) {
    float g = 0.f;
    if (t >= 0) g = (__expf(logits[n * vc + j] - l) - (v0 + j == t ? 1.f : 0.f)) * scale;
    st(dlogits, n * vc + j, g);
  }
}

__global__ void check_targets(const int32_t *targets, int64_t N, int64_t V, int *bad) {
  for (int64_t n = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; n < N; n += (int64_t)gridDim.x * blockDim.x)
    if (targets[n] >= V) atomicCAS(bad, -1, (int)n);
}

}  // namespace

extern "C" int lk_lmhead_ce(lk_ptr losses, lk_ptr dh, lk_ptr dw, lk_ptr h, lk_ptr w, lk_ptr targets, int64_t N,
                            int64_t C, int64_t V, int64_t chunk, float grad_scale, lk_ptr workspace, int dt) {
  LK_REQUIRE(chunk > 0, "lmhead_ce: chunk must be positive");
  LK_REQUIRE(!dh == !dw, "lmhead_ce: pass both dh and dw, or neither");
  LK_REQUIRE(dt == LK_F32 || dt == LK_BF16, "lmhead_ce: dtype %d is not fp32 or bf16", dt);
  const int64_t es = dt == LK_BF16 ? 2 : 4;
  float *logits = at<float>(workspace);
  void *dlogits = logits + N * chunk;
  float *dh_acc = logits + 2 * N * chunk, *mx = dh_acc + N * C, *se = mx + N;
  float *L = at<float>(losses);
  const int32_t *tg = at<int32_t>(targets);
  const char *H = at<char>(h), *W = at<char>(w);
  const int g = blocks_for(N, 256);

  int *bad = static_cast<int *>(scratch(sizeof(int), 3));
  if (!bad) return fail(LK_ERR_OOM, "lmhead_ce: scratch allocation failed");
  LK_CHECK(cuda_check(cudaMemsetAsync(bad, 0xff, sizeof(int), g_stream), "lmhead_ce"));
  check_targets<<<g, 256, 0, g_stream>>>(tg, N, V, bad);
  ce_init<<<g, 256, 0, g_stream>>>(mx, se, L, N);
  for (int64_t v0 = 0; v0 < V; v0 += chunk) {
    const int64_t vc = std::min(chunk, V - v0);
    LK_CHECK(gemm(false, true, N, vc, C, 1.f, H, C, W + v0 * C * es, C, 0.f, logits, vc, dt, LK_F32));
    ce_stats<<<(unsigned)N, 256, 0, g_stream>>>(logits, vc, mx, se, L, tg, v0);
  }
  ce_finish<<<g, 256, 0, g_stream>>>(mx, se, L, tg, N);
  LK_CHECK(launch_check("lmhead_ce"));
  int where = -1;
  LK_CHECK(cuda_check(cudaMemcpyAsync(&where, bad, sizeof(int), cudaMemcpyDeviceToHost, g_stream), "lmhead_ce"));
  LK_CHECK(cuda_check(cudaStreamSynchronize(g_stream), "lmhead_ce"));
  if (where >= 0) {
    int32_t t = 0;
    cudaMemcpy(&t, tg + where, sizeof t, cudaMemcpyDeviceToHost);
    return fail(LK_ERR_ARG, "lmhead_ce: target %d at position %d is outside the vocabulary [0, %ld)", t, where, (long)V);
  }
  if (!dh) return LK_OK;

  for (int64_t v0 = 0; v0 < V; v0 += chunk) {
    const int64_t vc = std::min(chunk, V - v0);
    const char *Wc = W + v0 * C * es;
    LK_CHECK(gemm(false, true, N, vc, C, 1.f, H, C, Wc, C, 0.f, logits, vc, dt, LK_F32));
    LK_DISPATCH(dt, "lmhead_ce",
                ce_grad<T><<<(unsigned)N, 256, 0, g_stream>>>(static_cast<T *>(dlogits), logits, vc, se, tg, v0, grad_scale));
    LK_CHECK(launch_check("lmhead_ce"));
    LK_CHECK(gemm(false, false, N, C, vc, 1.f, dlogits, vc, Wc, C, v0 == 0 ? 0.f : 1.f, dh_acc, C, dt, LK_F32));
    LK_CHECK(gemm(true, false, vc, C, N, 1.f, dlogits, vc, H, C, 1.f, at<char>(dw) + v0 * C * 4, C, dt, LK_F32));
  }
  return lk_cast(dh, dt, reinterpret_cast<uintptr_t>(dh_acc), LK_F32, N * C);
}
