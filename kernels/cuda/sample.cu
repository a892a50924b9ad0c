// CUDA backend: sampling, with the semantics of loom_kernels.h. A row's work is spread over blocks
// of CHUNK logits each, so a batch-1 draw reads its 151,936 logits with 75 blocks instead of one
// (a block held to one SM took ~40 µs a pass over such a row on an H100). Each phase is one launch
// over (chunks, rows): every block leaves its partial result, and the row's last block to finish
// combines them in chunk order and moves the row on to its next phase. A thread always owns the
// same eight logits of its chunk, whatever the row's alignment, so every sum is made in the same
// order wherever the row sits in the batch, and the draw and its log-probability do not depend
// on the batch.
//
// The phases; each launch covers every row, and a row not in that phase returns at once:
//   stats   the raw row's max and sum of exponentials (log-probabilities) and the first maximum
//           of the penalised row: greedy rows are done
//   scan    plain sampling: the Gumbel-max draw, done. Top-k or top-p: how many tokens, and how
//           much mass, lie within 1, 2, 4, ... 32 of the maximum picks the candidate set. Top-p
//           alone also sums the row's mass in 2,048 bins of 1/128 nat below the maximum (exact
//           fixed-point sums, so the bound does not depend on the order atomics run in): on a
//           row too flat for the candidates they give the bin where the kept mass reaches top-p
//   gather  the candidates are gathered, and the last block finds the thresholds by bisection
//           over them and draws: done
//   bin     that bin's tokens are gathered; bisection over them gives the bound. What is left
//           (top-k on a row too flat for the candidates, a bin too crowded to gather): the row's
//           first block bisects over the whole row
//   draw    the Gumbel-max draw over the kept tokens, done
#include "common.cuh"

using namespace lk;

namespace {

constexpr int THREADS = 256;
constexpr int CHUNK = THREADS * VEC;  // logits of a row per block: eight a thread
constexpr int CAP = 4096;  // candidates gathered for one row
constexpr int LEVELS = 6;  // candidate sets: within 1, 2, 4, ... 32 of the maximum (after temperature)
constexpr int BINS = 2048;          // a flat row's mass by distance from the maximum, in bins of
constexpr float BIN_SCALE = 128.f;  // 1/128 nat; the last bin takes everything further than 16 nats
constexpr int PARTIAL = 2 * LEVELS + 1;  // floats a block leaves for its row's last block

enum Mode : int32_t { DONE, PLAIN, FILTERED, CANDIDATES, BINNED, SOLO, DRAW };

// A row's progress between phases, in device memory.
struct RowState {
  uint32_t done;  // blocks of the current phase finished; the last one resets it
  int32_t mode;
  float rm, rz;  // the raw row's maximum and sum of exp(x - rm)
  float xm;      // the penalised row's maximum
  int32_t top;   // and its first index
  float total;   // the sum of exp((x - xm) / t) over the row
  int32_t level;
  uint32_t ncand;
  uint32_t pmin;  // the kept tokens are those whose scaled logit's key is >= pmin
  int32_t bin;
  unsigned long long above, thr;  // fixed-point masses: of the bins before `bin`; top_p of the row's
};

struct Args {
  int32_t *out;
  float *logprobs;
  const float *logits;
  const lk_sample_row *rows;
  int32_t *history;
  float *work;  // the penalised rows
  RowState *states;
  float *partials;  // [B, chunks, PARTIAL]
  float *cand_v;    // [B, CAP]
  int32_t *cand_i;  // [B, CAP]
  unsigned long long *bin_mass;  // [B, BINS]
  uint32_t *bin_count;           // [B, BINS]
  int64_t V, P;
  int chunks;
};

// What every phase needs of row b.
struct Row {
  lk_sample_row r;
  const float *orig, *x;  // the raw logits, and the penalised ones (orig when no penalty applies)
  int32_t *hist;
  RowState *st;
  float *partial;
  float *cand_v;
  int32_t *cand_i;
  unsigned long long *bin_mass;
  uint32_t *bin_count;
};

__device__ Row row_of(const Args &a, int64_t b) {
  Row w;
  w.r = a.rows[b];
  w.orig = a.logits + b * a.V;
  w.hist = a.history && w.r.history_row >= 0 ? a.history + (int64_t)w.r.history_row * a.P : nullptr;
  const bool penalised = w.hist && w.r.history_len > 0 && w.r.repetition_penalty != 1.f;
  w.x = penalised ? a.work + b * a.V : w.orig;
  w.st = a.states + b;
  w.partial = a.partials + b * a.chunks * PARTIAL;
  w.cand_v = a.cand_v + b * CAP;
  w.cand_i = a.cand_i + b * CAP;
  w.bin_mass = a.bin_mass + b * BINS;
  w.bin_count = a.bin_count + b * BINS;
  return w;
}

// Top-p alone: the scan sums the row's mass by bins (top-k bounds come from candidates or bisection).
__device__ __forceinline__ bool binned_row(const lk_sample_row &r, int64_t V) {
  return r.temperature > 0.f && r.top_p < 1.f && !(r.top_k > 0 && r.top_k < V);
}

// Calls f(i, x[i]) for this thread's eight logits of chunk s, in ascending i: one pair of 16-byte
// loads where they are aligned, else eight loads; the same eight logits either way.
template <typename F>
__device__ __forceinline__ void chunk_for(const float *x, int64_t V, int s, F f) {
  const int64_t j = (int64_t)s * CHUNK + (int64_t)threadIdx.x * VEC;
  if (j >= V) return;
  float a[VEC];
  if (j + VEC <= V && (reinterpret_cast<uintptr_t>(x + j) & 15) == 0) load8(a, x + j);
  else {
#pragma unroll
    for (int k = 0; k < VEC; ++k) a[k] = j + k < V ? x[j + k] : 0.f;
  }
#pragma unroll
  for (int k = 0; k < VEC; ++k)
    if (j + k < V) f(j + k, a[k]);
}

// True in the last of a row's blocks to finish this phase; the others' writes are visible to it
// (read them with __ldcg, past L1). That block resets the count for the next phase.
__device__ bool last_block(RowState *st, int chunks) {
  __shared__ bool last;
  __threadfence();
  __syncthreads();
  if (threadIdx.x == 0) {
    last = atomicAdd(&st->done, 1u) == (uint32_t)chunks - 1;
    if (last) st->done = 0;
  }
  __syncthreads();
  if (last) __threadfence();
  return last;
}

// Folds (m2, z2), a maximum and the sum of exp(x - m2), into (m, z).
__device__ __forceinline__ void merge_exp(float &m, float &z, float m2, float z2) {
  if (m2 == -INFINITY) return;
  if (m2 > m) z = z * __expf(m - m2) + z2, m = m2;
  else z += z2 * __expf(m2 - m);
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

// The drawn token, its log-probability and its place in the history; one thread of the row's last block.
__device__ void finish(const Args &a, const Row &w, int64_t b, int32_t pick) {
  a.out[b] = pick;
  if (a.logprobs) a.logprobs[b] = w.orig[pick] - w.st->rm - logf(w.st->rz);
  if (w.hist && w.r.history_len < a.P) w.hist[w.r.history_len] = pick;
  w.st->mode = DONE;
}

__device__ __forceinline__ float part(const Row &w, int c, int k) { return __ldcg(w.partial + c * PARTIAL + k); }

// The Gumbel-max draw of a phase whose blocks each leave their best (value, index): the last block's
// thread 0 finishes the row. Every thread must call it.
__device__ void draw_across(const Args &a, const Row &w, int64_t b, Best d, Best *bbuf) {
  d = block_best(d, bbuf);
  if (threadIdx.x == 0) w.partial[blockIdx.x * PARTIAL] = d.v, w.partial[blockIdx.x * PARTIAL + 1] = __int_as_float(d.i);
  if (!last_block(w.st, a.chunks)) return;
  Best e{-INFINITY, -1};
  for (int c = threadIdx.x; c < a.chunks; c += blockDim.x) e = better(e, {part(w, c, 0), __float_as_int(part(w, c, 1))});
  e = block_best(e, bbuf);
  if (threadIdx.x == 0) finish(a, w, b, e.i);
}

__global__ void __launch_bounds__(THREADS) stats_kernel(Args a) {
  pdl_wait();
  __shared__ float buf[32];
  __shared__ Best bbuf[32];
  const int64_t b = blockIdx.y;
  const int s = blockIdx.x;
  const Row w = row_of(a, b);
  // this block's share of the row's bins, cleared for the scan to sum into
  if (binned_row(w.r, a.V))
    for (int i = s * blockDim.x + threadIdx.x; i < BINS; i += a.chunks * blockDim.x) w.bin_mass[i] = 0, w.bin_count[i] = 0;
  if (w.x != w.orig) {
    // this block's share of the penalised row: a copy of its chunk with the history's tokens in it
    float *x = const_cast<float *>(w.x);
    chunk_for(w.orig, a.V, s, [&](int64_t i, float o) { x[i] = o; });
    __syncthreads();
    const int64_t lo = (int64_t)s * CHUNK, hi = lo + CHUNK;
    for (int64_t i = threadIdx.x; i < w.r.history_len; i += blockDim.x) {
      const int32_t t = w.hist[i];
      if (t >= lo && t < hi && t < a.V) x[t] = w.orig[t] > 0.f ? w.orig[t] / w.r.repetition_penalty : w.orig[t] * w.r.repetition_penalty;
    }
    __syncthreads();
  }
  float rm = -INFINITY, rz = 0.f;
  Best top{-INFINITY, -1};
  chunk_for(w.orig, a.V, s, [&](int64_t i, float o) {
    merge_exp(rm, rz, o, 1.f);
    if (w.x == w.orig) top = better(top, {o, (int32_t)i});
  });
  if (w.x != w.orig) chunk_for(w.x, a.V, s, [&](int64_t i, float xi) { top = better(top, {xi, (int32_t)i}); });
  float m = block_max(rm, buf);
  float z = block_sum(rm == -INFINITY ? 0.f : rz * __expf(rm - m), buf);
  top = block_best(top, bbuf);
  if (threadIdx.x == 0) {
    float *p = w.partial + s * PARTIAL;
    p[0] = m, p[1] = z, p[2] = top.v, p[3] = __int_as_float(top.i);
  }
  if (!last_block(w.st, a.chunks)) return;
  rm = -INFINITY, rz = 0.f, top = {-INFINITY, -1};
  for (int c = threadIdx.x; c < a.chunks; c += blockDim.x) {
    merge_exp(rm, rz, part(w, c, 0), part(w, c, 1));
    top = better(top, {part(w, c, 2), __float_as_int(part(w, c, 3))});
  }
  m = block_max(rm, buf);
  z = block_sum(rm == -INFINITY ? 0.f : rz * __expf(rm - m), buf);
  top = block_best(top, bbuf);
  if (threadIdx.x == 0) {
    RowState *st = w.st;
    st->rm = m, st->rz = z, st->xm = top.v, st->top = top.i;
    const bool filtered = (w.r.top_k > 0 && w.r.top_k < a.V) || w.r.top_p < 1.f;
    if (w.r.temperature <= 0.f) finish(a, w, b, top.i);
    else st->mode = filtered ? FILTERED : PLAIN;
  }
}

// The row's last block of the scan: the bin where the kept mass reaches top_p of the row's mass
// (bins run from the most probable down; each thread owns BINS / blockDim.x adjacent ones).
__device__ void pick_bin(const Row &w, float top_p) {
  __shared__ uint64_t ubuf[32];
  __shared__ int bin_at;
  __shared__ uint64_t above_at;
  RowState *st = w.st;
  const int per = BINS / blockDim.x, first = threadIdx.x * per;
  uint64_t mine = 0, total = 0;
  for (int k = 0; k < per; ++k) mine += __ldcg(w.bin_mass + first + k);
  uint64_t before = block_scan(mine, ubuf, &total);
  const uint64_t thr = max((uint64_t)1, (uint64_t)((double)top_p * (double)total));
  for (int k = 0; k < per; ++k) {
    const uint64_t m = __ldcg(w.bin_mass + first + k);
    if (before < thr && thr <= before + m) bin_at = first + k, above_at = before;  // exactly one bin
    before += m;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    st->bin = bin_at, st->above = above_at, st->thr = thr, st->ncand = 0;
    if (__ldcg(w.bin_count + bin_at) > (uint32_t)CAP) st->mode = SOLO;
  }
}

__global__ void __launch_bounds__(THREADS) scan_kernel(Args a) {
  pdl_wait();
  __shared__ float buf[32];
  __shared__ Best bbuf[32];
  const int64_t b = blockIdx.y;
  const int s = blockIdx.x;
  const Row w = row_of(a, b);
  const int32_t mode = w.st->mode;
  if (mode != PLAIN && mode != FILTERED) return;
  const float xm = w.st->xm, t = w.r.temperature;
  if (mode == PLAIN) {
    const uint64_t stream = lk_sample_stream(w.r.seed, w.r.counter);
    Best d{-INFINITY, -1};
    chunk_for(w.x, a.V, s, [&](int64_t i, float xi) { d = better(d, {(xi - xm) / t + lk_gumbel(stream, i), (int32_t)i}); });
    return draw_across(a, w, b, d, bbuf);
  }
  const bool topk = w.r.top_k > 0 && w.r.top_k < a.V, binned = binned_row(w.r, a.V);
  // top-p alone: the chunk's mass by bins in shared memory first; the far bin, where most of a
  // peaked row's tokens fall, in registers (one shared address would serialize them)
  __shared__ unsigned long long mass[BINS];
  __shared__ uint32_t count[BINS];
  if (binned) {
    for (int i = threadIdx.x; i < BINS; i += blockDim.x) mass[i] = 0, count[i] = 0;
    __syncthreads();
  }
  unsigned long long far_mass = 0;
  uint32_t far_count = 0;
  // how many tokens, and how much mass, lie within 2^l of the maximum
  float sums[PARTIAL];  // count[LEVELS], mass[LEVELS], total
#pragma unroll
  for (int k = 0; k < PARTIAL; ++k) sums[k] = 0.f;
  chunk_for(w.x, a.V, s, [&](int64_t, float xi) {
    const float v = (xi - xm) / t, e = expf(v);
    sums[2 * LEVELS] += e;
#pragma unroll
    for (int l = 0; l < LEVELS; ++l)
      if (v >= -(float)(1 << l)) sums[l] += 1.f, sums[LEVELS + l] += e;
    if (!binned) return;
    const int k = nat_bin(v);
    if (k == BINS - 1) far_mass += mass_of(v), far_count += 1;
    else atomicAdd(&mass[k], (unsigned long long)mass_of(v)), atomicAdd(&count[k], 1u);
  });
#pragma unroll
  for (int k = 0; k < PARTIAL; ++k) {
    const float v = block_sum(sums[k], buf);
    if (threadIdx.x == 0) w.partial[s * PARTIAL + k] = v;
  }
  if (binned) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1)
      far_mass += __shfl_xor_sync(0xffffffffu, far_mass, o), far_count += __shfl_xor_sync(0xffffffffu, far_count, o);
    if ((threadIdx.x & 31) == 0 && far_count) atomicAdd(&mass[BINS - 1], far_mass), atomicAdd(&count[BINS - 1], far_count);
    __syncthreads();
    for (int i = threadIdx.x; i < BINS; i += blockDim.x)
      if (count[i]) atomicAdd(&w.bin_mass[i], mass[i]), atomicAdd(&w.bin_count[i], count[i]);
  }
  if (!last_block(w.st, a.chunks)) return;
#pragma unroll
  for (int k = 0; k < PARTIAL; ++k) {
    float mine = 0.f;
    for (int c = threadIdx.x; c < a.chunks; c += blockDim.x) mine += part(w, c, k);
    sums[k] = block_sum(mine, buf);
  }
  const float total = sums[2 * LEVELS];
  int level = -1;
  for (int l = 0; l < LEVELS && level < 0; ++l) {
    const float c = sums[l], m = sums[LEVELS + l];
    // the kept set lies inside the candidates when they hold the top k (top-k on), or the
    // top_p share of all the mass (top-p alone)
    const bool holds = topk ? c >= (float)w.r.top_k : m >= w.r.top_p * total;
    if (holds && c <= (float)CAP) level = l;
  }
  const int32_t next = level >= 0 ? CANDIDATES : binned ? BINNED : SOLO;
  if (threadIdx.x == 0) w.st->total = total, w.st->level = level, w.st->ncand = 0, w.st->mode = next;
  if (next == BINNED) pick_bin(w, w.r.top_p);
}

__global__ void __launch_bounds__(THREADS) gather_kernel(Args a) {
  pdl_wait();
  __shared__ float buf[32];
  __shared__ Best bbuf[32];
  // the candidates (values, then ids) in the last block
  __shared__ __align__(16) unsigned char pool[CAP * (sizeof(float) + sizeof(int32_t))];
  const int64_t b = blockIdx.y;
  const int s = blockIdx.x;
  const Row w = row_of(a, b);
  RowState *st = w.st;
  if (st->mode != CANDIDATES) return;
  const float xm = st->xm, t = w.r.temperature;
  const float floor_v = -(float)(1 << st->level);
  chunk_for(w.x, a.V, s, [&](int64_t i, float xi) {
    const float v = (xi - xm) / t;
    if (v >= floor_v) {
      const uint32_t at_ = atomicAdd(&st->ncand, 1u);
      w.cand_v[at_] = v, w.cand_i[at_] = (int32_t)i;
    }
  });
  if (!last_block(st, a.chunks)) return;
  float *cand_v = reinterpret_cast<float *>(pool);
  int32_t *cand_i = reinterpret_cast<int32_t *>(pool + CAP * sizeof(float));
  const int n = (int)__ldcg(&st->ncand);
  for (int i = threadIdx.x; i < n; i += blockDim.x) cand_v[i] = __ldcg(w.cand_v + i), cand_i[i] = __ldcg(w.cand_i + i);
  __syncthreads();
  const bool topk = w.r.top_k > 0 && w.r.top_k < a.V, topp = w.r.top_p < 1.f;
  auto get = [&](int64_t i) { return cand_v[i]; };
  const uint32_t kmin = topk ? kth_key(n, w.r.top_k, get, buf) : 0u;
  // without top-k the kept set is the whole row, whose mass the scan summed; with it, the
  // candidates hold the whole kept set
  const uint32_t pmin = topp ? nucleus_key(n, kmin, w.r.top_p, topk ? -1.f : st->total, get, buf) : kmin;
  const uint64_t stream = lk_sample_stream(w.r.seed, w.r.counter);
  Best d{-INFINITY, -1};
  for (int i = threadIdx.x; i < n; i += blockDim.x)
    if (key_of(cand_v[i]) >= pmin) d = better(d, {cand_v[i] + lk_gumbel(stream, cand_i[i]), cand_i[i]});
  d = block_best(d, bbuf);
  if (threadIdx.x == 0) finish(a, w, b, d.i);
}

// One block bisects over its whole row: top-k where the candidates near the maximum cannot hold
// the top k (or hold too many tokens), or top-p whose bound falls in a bin too crowded to gather.
// Rare, so it rides in the bin phase's launch rather than costing every call a launch of its own.
__device__ void solo(const Args &a, const Row &w, float *buf) {
  RowState *st = w.st;
  const float xm = st->xm, t = w.r.temperature;
  auto scaled = [&](int64_t i) { return (w.x[i] - xm) / t; };
  const bool topk = w.r.top_k > 0 && w.r.top_k < a.V, topp = w.r.top_p < 1.f;
  const uint32_t kmin = topk ? kth_key(a.V, w.r.top_k, scaled, buf) : 0u;
  const uint32_t pmin = topp ? nucleus_key(a.V, kmin, w.r.top_p, -1.f, scaled, buf) : kmin;
  if (threadIdx.x == 0) st->pmin = pmin, st->mode = DRAW;
}

__global__ void __launch_bounds__(THREADS) bin_kernel(Args a) {
  pdl_wait();
  __shared__ float buf[32];
  __shared__ uint64_t ubuf[32];
  __shared__ float cand[CAP];
  const int64_t b = blockIdx.y;
  const int s = blockIdx.x;
  const Row w = row_of(a, b);
  RowState *st = w.st;
  const int32_t mode = st->mode;
  if (mode == SOLO && s == 0) return solo(a, w, buf);
  if (mode != BINNED) return;
  const float xm = st->xm, t = w.r.temperature;
  const int D = st->bin;
  chunk_for(w.x, a.V, s, [&](int64_t, float xi) {
    const float v = (xi - xm) / t;
    if (nat_bin(v) == D) w.cand_v[atomicAdd(&st->ncand, 1u)] = v;
  });
  if (!last_block(st, a.chunks)) return;
  const int n = (int)__ldcg(&st->ncand);
  float lo_v = INFINITY, hi_v = -INFINITY;
  for (int i = threadIdx.x; i < n; i += blockDim.x) {
    const float v = __ldcg(w.cand_v + i);
    cand[i] = v, lo_v = fminf(lo_v, v), hi_v = fmaxf(hi_v, v);
  }
  // the bound lies between the bin's lowest and highest keys: below the lowest the whole bin is
  // strictly above it (>= thr); at the highest nothing of the bin is
  uint32_t lo = key_of(-block_max(-lo_v, buf)), hi = key_of(block_max(hi_v, buf));
  const uint64_t above = st->above, thr = st->thr;
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo) / 2;
    uint64_t m = 0, all = 0;
    for (int i = threadIdx.x; i < n; i += blockDim.x)
      if (key_of(cand[i]) > mid) m += mass_of(cand[i]);
    block_scan(m, ubuf, &all);
    if (above + all < thr) hi = mid;
    else lo = mid + 1;
  }
  if (threadIdx.x == 0) st->pmin = lo, st->mode = DRAW;
}

__global__ void __launch_bounds__(THREADS) draw_kernel(Args a) {
  pdl_wait();
  __shared__ Best bbuf[32];
  const int64_t b = blockIdx.y;
  const int s = blockIdx.x;
  const Row w = row_of(a, b);
  if (w.st->mode != DRAW) return;
  const float xm = w.st->xm, t = w.r.temperature;
  const uint32_t pmin = w.st->pmin;
  const uint64_t stream = lk_sample_stream(w.r.seed, w.r.counter);
  Best d{-INFINITY, -1};
  chunk_for(w.x, a.V, s, [&](int64_t i, float xi) {
    const float v = (xi - xm) / t;
    if (key_of(v) >= pmin) d = better(d, {v + lk_gumbel(stream, i), (int32_t)i});
  });
  draw_across(a, w, b, d, bbuf);
}

}  // namespace

extern "C" int lk_sample(lk_ptr out, lk_ptr logprobs, lk_ptr logits, lk_ptr rows, lk_ptr history, int64_t B, int64_t V,
                         int64_t P) {
  if (B == 0) return LK_OK;
  if (B > 65535) return fail(LK_ERR_ARG, "sample: %ld rows; at most 65535 a call", (long)B);
  const int chunks = (int)((V + CHUNK - 1) / CHUNK);
  // the settings live in device memory, so a bad penalty cannot be refused here: a penalty <= 0
  // makes a degenerate (but finite) draw
  float *work = static_cast<float *>(scratch((size_t)B * V * sizeof(float), SCRATCH_SAMPLE));
  auto up16 = [](size_t n) { return (n + 15) & ~(size_t)15; };
  const size_t states = up16(B * sizeof(RowState)), partials = up16((size_t)B * chunks * PARTIAL * sizeof(float)),
               cands = up16((size_t)B * CAP * sizeof(float)), masses = up16((size_t)B * BINS * sizeof(unsigned long long)),
               counts = up16((size_t)B * BINS * sizeof(uint32_t));
  char *mem = static_cast<char *>(scratch(states + partials + 2 * cands + masses + counts, SCRATCH_SAMPLE_ROWS));
  if (!work || !mem) return fail(LK_ERR_OOM, "sample: cannot allocate scratch for %ld rows of %ld", (long)B, (long)V);
  // every call starts the rows' phase counts from zero: counting on the last call to have left them
  // there was seen to fail (a row of a later engine never finished)
  if (int e = cuda_check(cudaMemsetAsync(mem, 0, states, g_stream), "sample")) return e;
  Args a;
  a.out = at<int32_t>(out), a.logprobs = logprobs ? at<float>(logprobs) : nullptr, a.logits = at<float>(logits);
  a.rows = at<lk_sample_row>(rows), a.history = history ? at<int32_t>(history) : nullptr, a.work = work;
  a.states = reinterpret_cast<RowState *>(mem);
  a.partials = reinterpret_cast<float *>(mem + states);
  a.cand_v = reinterpret_cast<float *>(mem + states + partials);
  a.cand_i = reinterpret_cast<int32_t *>(mem + states + partials + cands);
  a.bin_mass = reinterpret_cast<unsigned long long *>(mem + states + partials + 2 * cands);
  a.bin_count = reinterpret_cast<uint32_t *>(mem + states + partials + 2 * cands + masses);
  a.V = V, a.P = P, a.chunks = chunks;
  const dim3 grid((unsigned)chunks, (unsigned)B);
  launch(stats_kernel, grid, THREADS, 0, a);
  launch(scan_kernel, grid, THREADS, 0, a);
  launch(gather_kernel, grid, THREADS, 0, a);
  launch(bin_kernel, grid, THREADS, 0, a);
  launch(draw_kernel, grid, THREADS, 0, a);
  return launch_check("sample");
}
