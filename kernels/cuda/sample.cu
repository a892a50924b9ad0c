// CUDA backend: sampling, one block per row, with the semantics of loom_kernels.h. The common
// cases read the row a few times and sort nothing: greedy and plain sampling are one pass
// (Gumbel-max); with top-k or top-p, the few tokens within reach of the maximum are gathered into
// shared memory, where the thresholds are found by bisection over the order-preserving integer
// image of floats. When the candidates cannot hold the kept set (a near-flat distribution), top-p
// finds its bound from the row's mass in bins of distance from the maximum and the tokens of one
// bin; only top-k, or a bin too crowded to gather, bisects over the whole row (a flat top-p row took
// 1.47 ms on an H100 with 32 whole-row bisection steps, 0.26 ms now). A row whose width is a
// multiple of 8 is read with 16-byte loads, several in flight; other widths (the 151,851 ids of a
// padded Qwen head) one float at a time.
#include "common.cuh"

using namespace lk;

namespace {

constexpr int THREADS = 1024;
constexpr int CAP = 4096;  // candidates gathered into shared memory
constexpr int LEVELS = 6;  // candidate sets: within 1, 2, 4, ... 32 of the maximum (after temperature)
constexpr int BINS = 2048;        // a flat row's mass by distance from the maximum, in bins of
constexpr float BIN_SCALE = 128.f;  // 1/128 nat; the last bin takes everything further than 16 nats

// Calls f(i, x[i]) for this thread's share of a row of n floats, in ascending i: two 32-byte
// chunks are loaded before either is used, when the row is 16-byte aligned and a multiple of 8.
template <typename F>
__device__ __forceinline__ void row_for(const float *x, int64_t n, F f) {
  if ((n % VEC) != 0 || (reinterpret_cast<uintptr_t>(x) & 15) != 0) {
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) f(i, x[i]);
    return;
  }
  const int64_t stride = (int64_t)blockDim.x * VEC;
  int64_t j = (int64_t)threadIdx.x * VEC;
  for (; j + stride < n; j += 2 * stride) {
    float a[VEC], b[VEC];
    load8(a, x + j);
    load8(b, x + j + stride);
#pragma unroll
    for (int k = 0; k < VEC; ++k) f(j + k, a[k]);
#pragma unroll
    for (int k = 0; k < VEC; ++k) f(j + stride + k, b[k]);
  }
  if (j < n) {
    float a[VEC];
    load8(a, x + j);
#pragma unroll
    for (int k = 0; k < VEC; ++k) f(j + k, a[k]);
  }
}

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

// exp(v) of a scaled logit (v <= 0) in fixed point, 2^40 = 1: integer sums are exact in any order,
// so a bound found from them does not depend on the order the block's atomics happen to run in.
__device__ __forceinline__ uint64_t mass_of(float v) { return (uint64_t)(expf(v) * 1099511627776.f); }
__device__ __forceinline__ int nat_bin(float v) {
  return v > -(float)BINS / BIN_SCALE ? min(BINS - 1, (int)(-v * BIN_SCALE)) : BINS - 1;
}

// Block-wide sum, and the exclusive prefix sum in thread order; `buf` holds 32 values.
__device__ uint64_t block_scan(uint64_t x, uint64_t *buf, uint64_t *total) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
  uint64_t inc = x;
#pragma unroll
  for (int o = 1; o < 32; o <<= 1) {
    const uint64_t y = __shfl_up_sync(0xffffffffu, inc, o);
    if (lane >= o) inc += y;
  }
  __syncthreads();
  if (lane == 31) buf[warp] = inc;
  __syncthreads();
  uint64_t before = 0, all = 0;
  for (int w = 0; w < nw; ++w) {
    const uint64_t s = buf[w];
    if (w < warp) before += s;
    all += s;
  }
  *total = all;
  return before + inc - x;
}

// The nucleus bound of top-p alone, as nucleus_key defines it, from exact fixed-point masses in three
// passes: the row's mass by bins of distance from the maximum finds the bin where the kept mass
// reaches top_p of the total; that bin's tokens, gathered into `pool`, give the exact key by
// bisection. False (and nothing found) when the bin holds more tokens than the pool.
__device__ bool nucleus_by_bins(const float *x, int64_t V, float xm, float t, float top_p, unsigned char *pool,
                                uint64_t *ubuf, float *buf, uint32_t *key) {
  __shared__ int bin_at, ncand;
  __shared__ uint64_t above_at;
  uint64_t *mass = reinterpret_cast<uint64_t *>(pool);
  uint32_t *count = reinterpret_cast<uint32_t *>(pool + BINS * sizeof(uint64_t));
  float *cand = reinterpret_cast<float *>(pool);
  for (int i = threadIdx.x; i < BINS; i += blockDim.x) mass[i] = 0, count[i] = 0;
  __syncthreads();
  row_for(x, V, [&](int64_t, float xi) {
    const float v = (xi - xm) / t;
    const int b = nat_bin(v);
    atomicAdd(reinterpret_cast<unsigned long long *>(&mass[b]), (unsigned long long)mass_of(v));
    atomicAdd(&count[b], 1u);
  });
  __syncthreads();
  // bins run from the most probable down; each thread owns BINS / blockDim.x adjacent ones
  const int per = BINS / blockDim.x, first = threadIdx.x * per;
  uint64_t mine = 0, total = 0;
  for (int k = 0; k < per; ++k) mine += mass[first + k];
  uint64_t before = block_scan(mine, ubuf, &total);
  const uint64_t thr = max((uint64_t)1, (uint64_t)((double)top_p * (double)total));
  for (int k = 0; k < per; ++k) {
    const uint64_t m = mass[first + k];
    if (before < thr && thr <= before + m) bin_at = first + k, above_at = before;  // exactly one bin
    before += m;
  }
  __syncthreads();
  const int D = bin_at;
  const uint64_t above = above_at;
  const uint32_t n = count[D];
  __syncthreads();  // every thread has read the bins before the pool holds candidates
  if (n > (uint32_t)CAP) return false;
  if (threadIdx.x == 0) ncand = 0;
  __syncthreads();
  float lo_v = INFINITY, hi_v = -INFINITY;
  row_for(x, V, [&](int64_t, float xi) {
    const float v = (xi - xm) / t;
    if (nat_bin(v) == D) {
      cand[atomicAdd(&ncand, 1)] = v;
      lo_v = fminf(lo_v, v), hi_v = fmaxf(hi_v, v);
    }
  });
  // the bound lies between the bin's lowest and highest keys: below the lowest the whole bin is
  // strictly above it (>= thr); at the highest nothing of the bin is
  uint32_t lo = key_of(-block_max(-lo_v, buf)), hi = key_of(block_max(hi_v, buf));
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo) / 2;
    uint64_t s = 0, all = 0;
    for (int i = threadIdx.x; i < (int)n; i += blockDim.x)
      if (key_of(cand[i]) > mid) s += mass_of(cand[i]);
    block_scan(s, ubuf, &all);
    if (above + all < thr) hi = mid;
    else lo = mid + 1;
  }
  *key = lo;
  return true;
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
  __shared__ uint64_t ubuf[32];
  // the candidates (values, then ids), or nucleus_by_bins' bins and candidates
  __shared__ __align__(16) unsigned char pool[CAP * (sizeof(float) + sizeof(int32_t))];
  float *cand_v = reinterpret_cast<float *>(pool);
  int32_t *cand_i = reinterpret_cast<int32_t *>(pool + CAP * sizeof(float));
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
  row_for(orig, V, [&](int64_t i, float o) {
    if (o > rm) rz = rz * __expf(rm - o) + 1.f, rm = o;
    else rz += __expf(o - rm);
    top = better(top, {x == orig ? o : x[i], (int32_t)i});
  });
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
      row_for(x, V, [&](int64_t i, float xi) { d = better(d, {(xi - xm) / t + lk_gumbel(stream, i), (int32_t)i}); });
      pick = block_best(d, bbuf).i;
    } else {
      // pass 2: how many tokens, and how much mass, lie within 2^l of the maximum
      float count[LEVELS], mass[LEVELS], total = 0.f;
#pragma unroll
      for (int l = 0; l < LEVELS; ++l) count[l] = mass[l] = 0.f;
      row_for(x, V, [&](int64_t, float xi) {
        const float v = (xi - xm) / t, e = expf(v);
        total += e;
#pragma unroll
        for (int l = 0; l < LEVELS; ++l)
          if (v >= -(float)(1 << l)) count[l] += 1.f, mass[l] += e;
      });
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
        row_for(x, V, [&](int64_t i, float xi) {
          const float v = (xi - xm) / t;
          if (v >= -(float)(1 << level)) {
            const int at_ = atomicAdd(&ncand, 1);
            cand_v[at_] = v, cand_i[at_] = (int32_t)i;
          }
        });
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
        uint32_t pmin = kmin;
        if (topp && !(!topk && nucleus_by_bins(x, V, xm, t, r.top_p, pool, ubuf, buf, &pmin)))
          pmin = nucleus_key(V, kmin, r.top_p, -1.f, scaled, buf);
        Best d{-INFINITY, -1};
        row_for(x, V, [&](int64_t i, float xi) {
          const float v = (xi - xm) / t;
          if (key_of(v) >= pmin) d = better(d, {v + lk_gumbel(stream, i), (int32_t)i});
        });
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
