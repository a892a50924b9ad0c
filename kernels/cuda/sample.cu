// CUDA backend: sampling, one block per row, with the semantics of loom_kernels.h. The common
// cases read the row a few times and sort nothing: greedy and plain sampling are one pass
// (Gumbel-max); with top-k or top-p, the few tokens within reach of the maximum are gathered into
// shared memory, where the thresholds are found by bisection over the order-preserving integer
// image of floats. Only when the candidates cannot hold the kept set (a near-flat distribution)
// does the bisection run over the whole row.
#include "common.cuh"

using namespace lk;

namespace {

constexpr int THREADS = 1024;
constexpr int CAP = 4096;  // candidates gathered into shared memory
constexpr int LEVELS = 6;  // candidate sets: within 1, 2, 4, ... 32 of the maximum (after temperature)

__device__ __forceinline__ uint32_t key_of(float f) {
  const uint32_t u = __float_as_uint(f);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

// (value, index) with the larger value winning, the smaller index on ties; every thread gets it
struct Best {
  float v;
  int32_t i;
};
__device__ __forceinline__ Best better(Best a, Best b) {
  return (b.v > a.v || (b.v == a.v && b.i >= 0 && (a.i < 0 || b.i < a.i))) ? b : a;
}
__device__ Best block_best(Best x, Best *buf) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) x = better(x, {__shfl_xor_sync(0xffffffffu, x.v, o), __shfl_xor_sync(0xffffffffu, x.i, o)});
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  __syncthreads();
  if (lane == 0) buf[warp] = x;
  __syncthreads();
  x = lane < (int)(blockDim.x >> 5) ? buf[lane] : Best{-INFINITY, -1};
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) x = better(x, {__shfl_xor_sync(0xffffffffu, x.v, o), __shfl_xor_sync(0xffffffffu, x.i, o)});
  return x;
}

// The smallest key K such that the values' keys >= K number at least k (the k-th largest).
template <typename Get>
__device__ uint32_t kth_key(int64_t n, int64_t k, Get get, float *buf) {
  uint32_t lo = 0, hi = 0xffffffffu;
  while (lo < hi) {
    const uint32_t mid = lo + (uint32_t)(((uint64_t)hi - lo + 1) / 2);
    float c = 0.f;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) c += key_of(get(i)) >= mid ? 1.f : 0.f;
    if (block_sum(c, buf) >= (float)k) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

// The nucleus bound: the smallest key K whose strictly-above mass exp(v) among keys >= kmin is
// < top_p of `total`, the kept set's mass (< 0: the mass of keys >= kmin among these n values);
// tokens with keys >= K are kept.
template <typename Get>
__device__ uint32_t nucleus_key(int64_t n, uint32_t kmin, float top_p, float total, Get get, float *buf) {
  if (total < 0.f) {
    float mine = 0.f;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) mine += key_of(get(i)) >= kmin ? expf(get(i)) : 0.f;
    total = block_sum(mine, buf);
  }
  const float thr = top_p * total;
  uint32_t lo = kmin, hi = 0xffffffffu;
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo) / 2;
    float s = 0.f;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
      const uint32_t key = key_of(get(i));
      s += key >= kmin && key > mid ? expf(get(i)) : 0.f;
    }
    if (block_sum(s, buf) < thr) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

__global__ void __launch_bounds__(THREADS) sample_kernel(int32_t *out, float *logprobs, const float *logits,
                                                         const lk_sample_row *rows, int32_t *history, float *work,
                                                         int64_t V, int64_t P) {
  __shared__ float buf[32];
  __shared__ Best bbuf[32];
  __shared__ float cand_v[CAP];
  __shared__ int32_t cand_i[CAP];
  __shared__ int ncand;
  const int64_t b = blockIdx.x;
  const lk_sample_row r = rows[b];
  const float *orig = logits + b * V;
  int32_t *hist = history && r.history_row >= 0 ? history + (int64_t)r.history_row * P : nullptr;
  const float *x = orig;
  if (hist && r.history_len > 0 && r.repetition_penalty != 1.f) {
    float *w = work + b * V;
    for (int64_t i = threadIdx.x; i < V; i += blockDim.x) w[i] = orig[i];
    __syncthreads();
    for (int64_t i = threadIdx.x; i < r.history_len; i += blockDim.x) {
      const int32_t t = hist[i];
      if (t >= 0 && t < V) w[t] = orig[t] > 0.f ? orig[t] / r.repetition_penalty : orig[t] * r.repetition_penalty;
    }
    __syncthreads();
    x = w;
  }
  // pass 1: the raw logits' max and sum of exponentials (online), and the first maximum of x
  float rm = -INFINITY, rz = 0.f;
  Best top{-INFINITY, -1};
  for (int64_t i = threadIdx.x; i < V; i += blockDim.x) {
    const float o = orig[i];
    if (o > rm) rz = rz * __expf(rm - o) + 1.f, rm = o;
    else rz += __expf(o - rm);
    top = better(top, {x[i], (int32_t)i});
  }
  const float RM = block_max(rm, buf);
  const float RZ = block_sum(rm == -INFINITY ? 0.f : rz * __expf(rm - RM), buf);
  top = block_best(top, bbuf);
  const float xm = top.v, t = r.temperature;
  int32_t pick = top.i;
  if (t > 0.f) {
    const uint64_t stream = lk_sample_stream(r.seed, r.counter);
    const bool topk = r.top_k > 0 && r.top_k < V, topp = r.top_p < 1.f;
    auto scaled = [&](int64_t i) { return (x[i] - xm) / t; };
    if (!topk && !topp) {
      Best d{-INFINITY, -1};
      for (int64_t i = threadIdx.x; i < V; i += blockDim.x) d = better(d, {scaled(i) + lk_gumbel(stream, i), (int32_t)i});
      pick = block_best(d, bbuf).i;
    } else {
      // pass 2: how many tokens, and how much mass, lie within 2^l of the maximum
      float count[LEVELS], mass[LEVELS], total = 0.f;
#pragma unroll
      for (int l = 0; l < LEVELS; ++l) count[l] = mass[l] = 0.f;
      for (int64_t i = threadIdx.x; i < V; i += blockDim.x) {
        const float v = scaled(i), e = expf(v);
        total += e;
#pragma unroll
        for (int l = 0; l < LEVELS; ++l)
          if (v >= -(float)(1 << l)) count[l] += 1.f, mass[l] += e;
      }
      total = block_sum(total, buf);
      int level = -1;
      for (int l = 0; l < LEVELS && level < 0; ++l) {
        const float c = block_sum(count[l], buf), m = block_sum(mass[l], buf);
        // the kept set lies inside the candidates when they hold the top k (top-k on), or the
        // top_p share of all the mass (top-p alone)
        const bool holds = topk ? c >= (float)r.top_k : m >= r.top_p * total;
        if (holds && c <= (float)CAP) level = l;
      }
      if (level >= 0) {
        if (threadIdx.x == 0) ncand = 0;
        __syncthreads();
        for (int64_t i = threadIdx.x; i < V; i += blockDim.x) {
          const float v = scaled(i);
          if (v >= -(float)(1 << level)) {
            const int at_ = atomicAdd(&ncand, 1);
            cand_v[at_] = v, cand_i[at_] = (int32_t)i;
          }
        }
        __syncthreads();
        const int n = ncand;
        auto get = [&](int64_t i) { return cand_v[i]; };
        const uint32_t kmin = topk ? kth_key(n, r.top_k, get, buf) : 0u;
        // without top-k the kept set is the whole row, whose mass pass 2 summed; with it, the
        // candidates hold the whole kept set
        const uint32_t pmin = topp ? nucleus_key(n, kmin, r.top_p, topk ? -1.f : total, get, buf) : kmin;
        Best d{-INFINITY, -1};
        for (int i = threadIdx.x; i < n; i += blockDim.x)
          if (key_of(cand_v[i]) >= pmin) d = better(d, {cand_v[i] + lk_gumbel(stream, cand_i[i]), cand_i[i]});
        pick = block_best(d, bbuf).i;
      } else {
        const uint32_t kmin = topk ? kth_key(V, r.top_k, scaled, buf) : 0u;
        const uint32_t pmin = topp ? nucleus_key(V, kmin, r.top_p, -1.f, scaled, buf) : kmin;
        Best d{-INFINITY, -1};
        for (int64_t i = threadIdx.x; i < V; i += blockDim.x)
          if (key_of(scaled(i)) >= pmin) d = better(d, {scaled(i) + lk_gumbel(stream, i), (int32_t)i});
        pick = block_best(d, bbuf).i;
      }
    }
  }
  if (threadIdx.x == 0) {
    out[b] = pick;
    if (logprobs) logprobs[b] = orig[pick] - RM - logf(RZ);
    if (hist && r.history_len < P) hist[r.history_len] = pick;
  }
}

}  // namespace

extern "C" int lk_sample(lk_ptr out, lk_ptr logprobs, lk_ptr logits, lk_ptr rows, lk_ptr history, int64_t B, int64_t V,
                         int64_t P) {
  if (B == 0) return LK_OK;
  // the settings live in device memory, so a bad penalty cannot be refused here: a penalty <= 0
  // makes a degenerate (but finite) draw
  float *work = static_cast<float *>(scratch((size_t)B * V * sizeof(float), SCRATCH_SAMPLE));
  if (!work) return fail(LK_ERR_OOM, "sample: cannot allocate %ld floats of scratch", (long)(B * V));
  sample_kernel<<<(unsigned)B, THREADS, 0, g_stream>>>(at<int32_t>(out), logprobs ? at<float>(logprobs) : nullptr,
                                                       at<float>(logits), at<lk_sample_row>(rows),
                                                       history ? at<int32_t>(history) : nullptr, work, V, P);
  return launch_check("sample");
}
