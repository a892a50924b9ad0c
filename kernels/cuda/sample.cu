// CUDA backend: sampling, one block per row, with the semantics of loom_kernels.h. Top-k and
// top-p thresholds are found by bisection over the order-preserving integer image of floats
// (32 exact steps, each a block-wide count or sum), so no sort of the vocabulary is needed.
#include "common.cuh"

using namespace lk;

namespace {

constexpr int THREADS = 1024;

__device__ __forceinline__ uint32_t key_of(float f) {
  const uint32_t u = __float_as_uint(f);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

__global__ void __launch_bounds__(THREADS) sample_kernel(int32_t *out, const float *logits, float *work, int64_t V,
                                                         float temperature, int64_t top_k, float top_p, float penalty,
                                                         const int32_t *history, int64_t P, uint64_t seed) {
  __shared__ float buf[32];
  __shared__ float seg_sum[THREADS];
  __shared__ int found;
  const int64_t b = blockIdx.x;
  const float *orig = logits + b * V;
  float *x = work + b * V;
  for (int64_t i = threadIdx.x; i < V; i += blockDim.x) x[i] = orig[i];
  __syncthreads();
  if (history)
    for (int64_t i = threadIdx.x; i < P; i += blockDim.x) {
      const int32_t t = history[b * P + i];
      if (t >= 0 && t < V) x[t] = orig[t] > 0.f ? orig[t] / penalty : orig[t] * penalty;
    }
  __syncthreads();

  if (temperature <= 0.f) {  // greedy: the first index of the maximum
    float best = -INFINITY;
    for (int64_t i = threadIdx.x; i < V; i += blockDim.x) best = fmaxf(best, x[i]);
    best = block_max(best, buf);
    if (threadIdx.x == 0) found = INT32_MAX;
    __syncthreads();
    for (int64_t i = threadIdx.x; i < V; i += blockDim.x)
      if (x[i] == best) atomicMin(&found, (int)i);
    __syncthreads();
    if (threadIdx.x == 0) out[b] = found;
    return;
  }
  for (int64_t i = threadIdx.x; i < V; i += blockDim.x) x[i] /= temperature;
  __syncthreads();

  // top-k: the largest key K with count(key >= K) >= k is the k-th largest logit
  uint32_t kmin = 0;
  if (top_k > 0 && top_k < V) {
    uint32_t lo = 0, hi = 0xffffffffu;
    while (lo < hi) {
      const uint32_t mid = lo + (uint32_t)(((uint64_t)hi - lo + 1) / 2);
      float c = 0.f;
      for (int64_t i = threadIdx.x; i < V; i += blockDim.x) c += key_of(x[i]) >= mid ? 1.f : 0.f;
      c = block_sum(c, buf);
      if (c >= (float)top_k) lo = mid;
      else hi = mid - 1;
    }
    kmin = lo;
  }
  float m = -INFINITY;
  for (int64_t i = threadIdx.x; i < V; i += blockDim.x)
    if (key_of(x[i]) >= kmin) m = fmaxf(m, x[i]);
  m = block_max(m, buf);
  float total = 0.f;
  for (int64_t i = threadIdx.x; i < V; i += blockDim.x) {
    const float p = key_of(x[i]) >= kmin ? __expf(x[i] - m) : 0.f;
    x[i] = p;  // x now holds unnormalized kept probabilities
    total += p;
  }
  total = block_sum(total, buf);

  // top-p: keep i when the mass strictly above p_i is < top_p; that set is {key(p) >= K} for the
  // smallest K whose strictly-above mass is < top_p * total
  uint32_t pmin = 0;
  if (top_p < 1.f) {
    const float thr = top_p * total;
    uint32_t lo = 0, hi = 0xffffffffu;
    while (lo < hi) {
      const uint32_t mid = lo + (hi - lo) / 2;
      float s = 0.f;
      for (int64_t i = threadIdx.x; i < V; i += blockDim.x) s += key_of(x[i]) > mid ? x[i] : 0.f;
      s = block_sum(s, buf);
      if (s < thr) hi = mid;
      else lo = mid + 1;
    }
    pmin = lo;
    total = 0.f;
    for (int64_t i = threadIdx.x; i < V; i += blockDim.x) {
      if (x[i] > 0.f && key_of(x[i]) < pmin) x[i] = 0.f;
      total += x[i];
    }
    total = block_sum(total, buf);
  }

  // inverse CDF in index order: contiguous segments per thread, prefix over segment sums
  const int64_t seg = (V + THREADS - 1) / THREADS, s0 = threadIdx.x * seg, s1 = min(V, s0 + seg);
  float mine = 0.f;
  for (int64_t i = s0; i < s1; ++i) mine += x[i];
  seg_sum[threadIdx.x] = mine;
  if (threadIdx.x == 0) found = -1;
  __syncthreads();
  if (threadIdx.x == 0) {
    float run = 0.f;
    for (int t = 0; t < THREADS; ++t) {
      const float s = seg_sum[t];
      seg_sum[t] = run;
      run += s;
    }
  }
  __syncthreads();
  const float target = lk_uniform(seed, (uint64_t)b) * total;
  float cum = seg_sum[threadIdx.x];
  if (cum <= target && cum + mine > target)
    for (int64_t i = s0; i < s1; ++i) {
      cum += x[i];
      if (x[i] > 0.f && cum > target) {
        atomicMax(&found, (int)i);
        break;
      }
    }
  __syncthreads();
  if (threadIdx.x == 0) {
    int pick = found;
    if (pick < 0)  // rounding put the target past the end: take the last kept token
      for (int64_t i = V - 1; i >= 0; --i)
        if (x[i] > 0.f) {
          pick = (int)i;
          break;
        }
    out[b] = pick;
  }
}

}  // namespace

extern "C" int lk_sample(lk_ptr out, lk_ptr logits, int64_t B, int64_t V, float temperature, int64_t top_k, float top_p,
                         float repetition_penalty, lk_ptr history, int64_t P, uint64_t seed) {
  LK_REQUIRE(repetition_penalty > 0.f, "sample: repetition penalty %g must be positive", repetition_penalty);
  float *work = static_cast<float *>(scratch((size_t)B * V * sizeof(float), SCRATCH_SAMPLE));
  if (!work) return fail(LK_ERR_OOM, "sample: cannot allocate %ld floats of scratch", (long)(B * V));
  sample_kernel<<<(unsigned)B, THREADS, 0, g_stream>>>(at<int32_t>(out), at<float>(logits), work, V, temperature, top_k,
                                                       top_p, repetition_penalty, history ? at<int32_t>(history) : nullptr,
                                                       P, seed);
  return launch_check("sample");
}
