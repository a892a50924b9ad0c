// CUDA backend: causal (optionally sliding-window) GQA attention, flash-style.
// Forward: a block takes 32 query rows of one head, four threads per row each owning every
// fourth dimension; key/value tiles of 32 rows pass through shared memory and an online softmax
// keeps only (max, sum, acc) per row, saving the log-sum-exp for the backward.
// Backward (FlashAttention-2 order, no atomics): one kernel for dq looping over key tiles, one for
// dk/dv looping over the query tiles (and the query heads of its GQA group), both recomputing
// probabilities from the saved log-sum-exp.
#include <algorithm>
#include <cstdlib>

#include "common.cuh"

using namespace lk;

namespace {

constexpr int BQ = 32, BK = 32, LANES = 4, THREADS = BQ * LANES;

// start (a packed row's sequence starts per position, this row's; null: one sequence a row) hides
// the keys before query i's sequence
__device__ __forceinline__ bool visible(int64_t i, int64_t j, int64_t T, int64_t window, const int32_t *start) {
  return j <= i && i < T && (window <= 0 || i - j < window) && (!start || j >= start[i]);
}

// the first key queries from q0 on see, and the last query keys up to j1 are seen by (end: one
// past each position's sequence, this row's)
__device__ __forceinline__ int64_t first_key(int64_t q0, int64_t T, int64_t window, const int32_t *start) {
  const int64_t lo = window > 0 ? max((int64_t)0, q0 - window + 1) : 0;
  return start ? max(lo, (int64_t)start[min(q0, T - 1)]) : lo;
}
__device__ __forceinline__ int64_t last_query(int64_t j1, int64_t T, int64_t window, const int32_t *end) {
  const int64_t hi = window > 0 ? min(T - 1, j1 + window - 1) : T - 1;
  return end ? min(hi, (int64_t)end[min(j1, T - 1)] - 1) : hi;
}

// sum over the 4 lanes of a row
__device__ __forceinline__ float row_sum(float v) {
  v += __shfl_xor_sync(0xffffffffu, v, 1);
  v += __shfl_xor_sync(0xffffffffu, v, 2);
  return v;
}

template <typename T, int DPT>
__device__ __forceinline__ void load_row(float (&r)[DPT], const T *src, int l, int64_t D, bool ok, float mul) {
#pragma unroll
  for (int t = 0; t < DPT; ++t) {
    const int d = t * LANES + l;
    r[t] = ok && d < D ? ld(src, d) * mul : 0.f;
  }
}

// rows [r0, r0+BK) of a [B,T,H,D] tensor (head h) into shared memory as fp32, zero-padded
template <typename T, int DPT>
__device__ __forceinline__ void load_tile(float (*dst)[DPT * LANES], const T *src, int64_t b, int64_t r0, int64_t T_,
                                          int64_t H, int64_t h, int64_t D) {
  constexpr int DM = DPT * LANES;
  for (int idx = threadIdx.x; idx < BK * DM; idx += blockDim.x) {
    const int rr = idx / DM, d = idx % DM;
    const int64_t r = r0 + rr;
    dst[rr][d] = (r < T_ && d < D) ? ld(src, ((b * T_ + r) * H + h) * D + d) : 0.f;
  }
}

template <typename T, int DPT>
__global__ void __launch_bounds__(THREADS) attn_fwd(T *out, float *lse, const T *q, const T *k, const T *v, int64_t T_,
                                                    int64_t Hq, int64_t Hkv, int64_t D, float scale, int64_t window,
                                                    const int32_t *seq_start) {
  constexpr int DM = DPT * LANES;
  __shared__ float Ks[BK][DM], Vs[BK][DM];
  const int64_t b = blockIdx.z, h = blockIdx.y, q0 = (int64_t)blockIdx.x * BQ, kvh = h / (Hq / Hkv);
  const int32_t *start = seq_start ? seq_start + b * T_ : nullptr;
  const int l = threadIdx.x % LANES;
  const int64_t i = q0 + threadIdx.x / LANES;
  float qr[DPT], acc[DPT];
  load_row<T, DPT>(qr, q + ((b * T_ + i) * Hq + h) * D, l, D, i < T_, scale);
#pragma unroll
  for (int t = 0; t < DPT; ++t) acc[t] = 0.f;
  float m = -INFINITY, lsum = 0.f;
  const int64_t jlo = first_key(q0, T_, window, start), jhi = min(T_ - 1, q0 + BQ - 1);
  for (int64_t j0 = jlo; j0 <= jhi; j0 += BK) {
    __syncthreads();
    load_tile<T, DPT>(Ks, k, b, j0, T_, Hkv, kvh, D);
    load_tile<T, DPT>(Vs, v, b, j0, T_, Hkv, kvh, D);
    __syncthreads();
    float s[BK], bm = -INFINITY;
#pragma unroll
    for (int jj = 0; jj < BK; ++jj) {
      float part = 0.f;
#pragma unroll
      for (int t = 0; t < DPT; ++t) part += qr[t] * Ks[jj][t * LANES + l];
      part = row_sum(part);
      s[jj] = visible(i, j0 + jj, T_, window, start) ? part : -INFINITY;
      bm = fmaxf(bm, s[jj]);
    }
    const float mn = fmaxf(m, bm);
    if (mn == -INFINITY) continue;
    const float corr = __expf(m - mn);
    lsum *= corr;
#pragma unroll
    for (int t = 0; t < DPT; ++t) acc[t] *= corr;
#pragma unroll
    for (int jj = 0; jj < BK; ++jj) {
      const float p = __expf(s[jj] - mn);
      lsum += p;
#pragma unroll
      for (int t = 0; t < DPT; ++t) acc[t] += p * Vs[jj][t * LANES + l];
    }
    m = mn;
  }
  if (i >= T_) return;
  const float inv = 1.f / lsum;
  T *o = out + ((b * T_ + i) * Hq + h) * D;
#pragma unroll
  for (int t = 0; t < DPT; ++t)
    if (t * LANES + l < D) st(o, t * LANES + l, acc[t] * inv);
  if (l == 0) lse[(b * Hq + h) * T_ + i] = m + logf(lsum);
}

// Dsum[b,h,i] = dout_i . out_i, one warp per row
template <typename T>
__global__ void attn_bwd_dot(float *dsum, const T *dout, const T *out, int64_t B, int64_t T_, int64_t Hq, int64_t D) {
  const int64_t row = blockIdx.x * (int64_t)(blockDim.x / 32) + threadIdx.x / 32;  // over (b, i, h)
  if (row >= B * T_ * Hq) return;
  const int lane = threadIdx.x & 31;
  float s = 0.f;
  for (int64_t d = lane; d < D; d += 32) s += ld(dout, row * D + d) * ld(out, row * D + d);
  s = warp_sum(s);
  const int64_t h = row % Hq, bi = row / Hq, b = bi / T_, i = bi % T_;
  if (lane == 0) dsum[(b * Hq + h) * T_ + i] = s;
}

template <typename T, int DPT>
__global__ void __launch_bounds__(THREADS) attn_bwd_dq(T *dq, const T *dout, const float *lse, const float *dsum,
                                                       const T *q, const T *k, const T *v, int64_t T_, int64_t Hq,
                                                       int64_t Hkv, int64_t D, float scale, int64_t window,
                                                       const int32_t *seq_start) {
  constexpr int DM = DPT * LANES;
  __shared__ float Ks[BK][DM], Vs[BK][DM];
  const int64_t b = blockIdx.z, h = blockIdx.y, q0 = (int64_t)blockIdx.x * BQ, kvh = h / (Hq / Hkv);
  const int32_t *start = seq_start ? seq_start + b * T_ : nullptr;
  const int l = threadIdx.x % LANES;
  const int64_t i = q0 + threadIdx.x / LANES;
  const int64_t row = ((b * T_ + i) * Hq + h) * D;
  float qr[DPT], dor[DPT], acc[DPT];
  load_row<T, DPT>(qr, q + row, l, D, i < T_, scale);
  load_row<T, DPT>(dor, dout + row, l, D, i < T_, 1.f);
#pragma unroll
  for (int t = 0; t < DPT; ++t) acc[t] = 0.f;
  const float li = i < T_ ? lse[(b * Hq + h) * T_ + i] : 0.f, di = i < T_ ? dsum[(b * Hq + h) * T_ + i] : 0.f;
  const int64_t jlo = first_key(q0, T_, window, start), jhi = min(T_ - 1, q0 + BQ - 1);
  for (int64_t j0 = jlo; j0 <= jhi; j0 += BK) {
    __syncthreads();
    load_tile<T, DPT>(Ks, k, b, j0, T_, Hkv, kvh, D);
    load_tile<T, DPT>(Vs, v, b, j0, T_, Hkv, kvh, D);
    __syncthreads();
#pragma unroll 4
    for (int jj = 0; jj < BK; ++jj) {
      float s = 0.f, dp = 0.f;
#pragma unroll
      for (int t = 0; t < DPT; ++t) {
        s += qr[t] * Ks[jj][t * LANES + l];
        dp += dor[t] * Vs[jj][t * LANES + l];
      }
      s = row_sum(s);
      dp = row_sum(dp);
      if (!visible(i, j0 + jj, T_, window, start)) continue;
      const float ds = __expf(s - li) * (dp - di);
#pragma unroll
      for (int t = 0; t < DPT; ++t) acc[t] += ds * Ks[jj][t * LANES + l];
    }
  }
  if (i >= T_) return;
#pragma unroll
  for (int t = 0; t < DPT; ++t)
    if (t * LANES + l < D) st(dq + row, t * LANES + l, acc[t] * scale);
}

template <typename T, int DPT>
__global__ void __launch_bounds__(THREADS) attn_bwd_dkv(T *dk, T *dv, const T *dout, const float *lse,
                                                        const float *dsum, const T *q, const T *k, const T *v,
                                                        int64_t T_, int64_t Hq, int64_t Hkv, int64_t D, float scale,
                                                        int64_t window, const int32_t *seq_start, const int32_t *seq_end) {
  constexpr int DM = DPT * LANES;
  __shared__ float Qs[BQ][DM], Os[BQ][DM], Ls[BQ], Ds[BQ];
  const int64_t b = blockIdx.z, g = blockIdx.y, j0 = (int64_t)blockIdx.x * BK, group = Hq / Hkv;
  const int32_t *start = seq_start ? seq_start + b * T_ : nullptr, *end = seq_end ? seq_end + b * T_ : nullptr;
  const int l = threadIdx.x % LANES;
  const int64_t j = j0 + threadIdx.x / LANES;
  const int64_t row = ((b * T_ + j) * Hkv + g) * D;
  float kr[DPT], vr[DPT], dka[DPT], dva[DPT];
  load_row<T, DPT>(kr, k + row, l, D, j < T_, 1.f);
  load_row<T, DPT>(vr, v + row, l, D, j < T_, 1.f);
#pragma unroll
  for (int t = 0; t < DPT; ++t) dka[t] = dva[t] = 0.f;
  const int64_t ihi = last_query(j0 + BK - 1, T_, window, end);
  for (int64_t h = g * group; h < (g + 1) * group; ++h)
    for (int64_t i0 = j0; i0 <= ihi; i0 += BQ) {
      __syncthreads();
      load_tile<T, DPT>(Qs, q, b, i0, T_, Hq, h, D);
      load_tile<T, DPT>(Os, dout, b, i0, T_, Hq, h, D);
      if (threadIdx.x < BQ) {
        const int64_t i = i0 + threadIdx.x;
        Ls[threadIdx.x] = i < T_ ? lse[(b * Hq + h) * T_ + i] : 0.f;
        Ds[threadIdx.x] = i < T_ ? dsum[(b * Hq + h) * T_ + i] : 0.f;
      }
      __syncthreads();
#pragma unroll 4
      for (int ii = 0; ii < BQ; ++ii) {
        float s = 0.f, dp = 0.f;
#pragma unroll
        for (int t = 0; t < DPT; ++t) {
          s += Qs[ii][t * LANES + l] * kr[t];
          dp += Os[ii][t * LANES + l] * vr[t];
        }
        s = row_sum(s) * scale;
        dp = row_sum(dp);
        if (!visible(i0 + ii, j, T_, window, start) || j >= T_) continue;
        const float p = __expf(s - Ls[ii]), ds = p * (dp - Ds[ii]);
#pragma unroll
        for (int t = 0; t < DPT; ++t) {
          dva[t] += p * Os[ii][t * LANES + l];
          dka[t] += ds * Qs[ii][t * LANES + l];
        }
      }
    }
  if (j >= T_) return;
#pragma unroll
  for (int t = 0; t < DPT; ++t)
    if (t * LANES + l < D) {
      st(dk + row, t * LANES + l, dka[t] * scale);
      st(dv + row, t * LANES + l, dva[t]);
    }
}

// decode over the cache, flash-decoding: a block (4 warps) per (key split, query, head); warps take
// the split's keys DECODE_KEYS_IN_FLIGHT at a time in turn, lanes split the head dim. A warp loads
// its keys' and values' rows before it reduces any score, so their latencies overlap (one key at
// a time, a warp waited on a load and a five-shuffle reduction per key). One split writes the
// output; several write (max, sum, acc) partials that decode_merge combines.
constexpr int DECODE_KEYS_IN_FLIGHT = 4;

template <typename T, int DPL>
__global__ void attn_decode(T *out, float *part, const T *q, const T *kc, const T *vc, const int32_t *slot,
                            const int32_t *pos, int64_t Tq, int64_t Tmax, int64_t Hq, int64_t Hkv, int64_t D,
                            float scale, int64_t window, int64_t chunk) {
  constexpr int U = DECODE_KEYS_IN_FLIGHT;
  pdl_wait();
  __shared__ float wm[4], wl[4], wacc[4][DPL * 32];
  const int64_t b = blockIdx.z, h = blockIdx.y % Hq, i = blockIdx.y / Hq, split = blockIdx.x, splits = gridDim.x;
  const int64_t kvh = h / (Hq / Hkv), row = (b * Tq + i) * Hq + h;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int64_t s = slot ? slot[b] : b;
  const int64_t p = s < 0 ? -1 : pos[b] + i, lo = window > 0 ? max((int64_t)0, p - window + 1) : 0;
  const int64_t j0 = max(lo, split * chunk), j1 = min(p + 1, (split + 1) * chunk);
  float qr[DPL], acc[DPL];
#pragma unroll
  for (int t = 0; t < DPL; ++t) {
    const int64_t d = t * 32 + lane;
    qr[t] = d < D ? ld(q, row * D + d) * scale : 0.f;
    acc[t] = 0.f;
  }
  float m = -INFINITY, lsum = 0.f;
  // the group's first key is always visible, so the running max is finite after the first group
  for (int64_t g = j0 + (int64_t)warp * U; g < j1; g += 4 * U) {
    float kr[U][DPL], vr[U][DPL], sc[U];
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const bool ok = g + u < j1;
      const int64_t base = ((s * Tmax + g + u) * Hkv + kvh) * D;
#pragma unroll
      for (int t = 0; t < DPL; ++t) {
        const bool in = ok && t * 32 + lane < D;
        kr[u][t] = in ? ld(kc, base + t * 32 + lane) : 0.f;
        vr[u][t] = in ? ld(vc, base + t * 32 + lane) : 0.f;
      }
    }
#pragma unroll
    for (int u = 0; u < U; ++u) {
      sc[u] = 0.f;
#pragma unroll
      for (int t = 0; t < DPL; ++t) sc[u] += qr[t] * kr[u][t];
    }
#pragma unroll
    for (int o = 16; o > 0; o >>= 1)
#pragma unroll
      for (int u = 0; u < U; ++u) sc[u] += __shfl_xor_sync(0xffffffffu, sc[u], o);
    float mx = sc[0];
#pragma unroll
    for (int u = 1; u < U; ++u) {
      if (g + u >= j1) sc[u] = -INFINITY;
      mx = fmaxf(mx, sc[u]);
    }
    const float mn = fmaxf(m, mx), corr = __expf(m - mn);
    lsum *= corr;
#pragma unroll
    for (int t = 0; t < DPL; ++t) acc[t] *= corr;
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const float e = __expf(sc[u] - mn);
      lsum += e;
#pragma unroll
      for (int t = 0; t < DPL; ++t) acc[t] += e * vr[u][t];
    }
    m = mn;
  }
  if (lane == 0) wm[warp] = m, wl[warp] = lsum;
#pragma unroll
  for (int t = 0; t < DPL; ++t) wacc[warp][t * 32 + lane] = acc[t];
  __syncthreads();
  const float M = fmaxf(fmaxf(wm[0], wm[1]), fmaxf(wm[2], wm[3]));
  float z = 0.f;
  for (int w = 0; w < 4; ++w) z += wm[w] == -INFINITY ? 0.f : wl[w] * __expf(wm[w] - M);
  float *mine = splits > 1 ? part + (row * splits + split) * (D + 2) : nullptr;
  if (mine && threadIdx.x == 0) mine[0] = M, mine[1] = z;
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) {
    float o = 0.f;
    for (int w = 0; w < 4; ++w) o += wm[w] == -INFINITY ? 0.f : wacc[w][d] * __expf(wm[w] - M);
    if (mine) mine[2 + d] = o;
    else st(out, row * D + d, z > 0.f ? o / z : 0.f);
  }
}

// out = the splits' partials merged by their maxima (rows with no keys at all: zeros)
template <typename T>
__global__ void decode_merge(T *out, const float *part, int64_t splits, int64_t D) {
  pdl_wait();
  const int64_t row = blockIdx.x;
  const float *pr = part + row * splits * (D + 2);
  float M = -INFINITY;
  for (int64_t s = 0; s < splits; ++s) M = fmaxf(M, pr[s * (D + 2)]);
  float z = 0.f;
  for (int64_t s = 0; s < splits; ++s) z += pr[s * (D + 2)] == -INFINITY ? 0.f : pr[s * (D + 2) + 1] * __expf(pr[s * (D + 2)] - M);
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) {
    float o = 0.f;
    for (int64_t s = 0; s < splits; ++s)
      if (pr[s * (D + 2)] != -INFINITY) o += pr[s * (D + 2) + 2 + d] * __expf(pr[s * (D + 2)] - M);
    st(out, row * D + d, z > 0.f ? o / z : 0.f);
  }
}

template <typename T>
__global__ void kv_append_kernel(T *kc, T *vc, const T *k, const T *v, const int32_t *slot, const int32_t *pos,
                                 int64_t N, int64_t Tmax, int64_t row) {
  pdl_wait();
  const int64_t idx = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (idx >= N * row) return;
  const int64_t n = idx / row, e = idx % row;
  if (slot[n] < 0) return;
  const int64_t to = ((int64_t)slot[n] * Tmax + pos[n]) * row + e;
  kc[to] = k[idx];
  vc[to] = v[idx];
}

}  // namespace

extern "C" {

int lk_attention_fwd(lk_ptr out, lk_ptr lse, lk_ptr q, lk_ptr k, lk_ptr v, int64_t B, int64_t T_, int64_t Hq,
                     int64_t Hkv, int64_t D, float scale, int64_t window, lk_ptr seq_start, lk_ptr seq_end, int dt) {
  LK_REQUIRE(Hkv > 0 && Hq % Hkv == 0, "attention: %ld query heads are not a multiple of %ld kv heads", (long)Hq, (long)Hkv);
  if (!getenv("LOOM_ATTENTION_SIMT")) {  // the tensor-core kernels where they apply
    int rc = attention_fwd_wgmma(out, lse, q, k, v, B, T_, Hq, Hkv, D, scale, window, seq_start, seq_end, dt);
    if (rc == LK_ERR_UNSUPPORTED) rc = attention_fwd_tc(out, lse, q, k, v, B, T_, Hq, Hkv, D, scale, window, seq_start, seq_end, dt);
    if (rc != LK_ERR_UNSUPPORTED) return rc;
  }
  const dim3 grid((unsigned)((T_ + BQ - 1) / BQ), (unsigned)Hq, (unsigned)B);
#define LK_ATTN_FWD(DPT)                                                                                          \
  attn_fwd<T, DPT><<<grid, THREADS, 0, g_stream>>>(at<T>(out), at<float>(lse), at<T>(q), at<T>(k), at<T>(v), T_, Hq, \
                                                   Hkv, D, scale, window, seq_start ? at<int32_t>(seq_start) : nullptr)
  LK_DISPATCH(dt, "attention_fwd", {
    if (D <= 8) LK_ATTN_FWD(2);
    else if (D <= 16) LK_ATTN_FWD(4);
    else if (D <= 32) LK_ATTN_FWD(8);
    else if (D <= 64) LK_ATTN_FWD(16);
    else if (D <= 128) LK_ATTN_FWD(32);
    else return fail(LK_ERR_UNSUPPORTED, "attention: head dim %ld > 128 is not supported on CUDA", (long)D);
  });
#undef LK_ATTN_FWD
  return launch_check("attention_fwd");
}

int lk_attention_bwd(lk_ptr dq, lk_ptr dk, lk_ptr dv, lk_ptr dout, lk_ptr out, lk_ptr lse, lk_ptr q, lk_ptr k,
                     lk_ptr v, lk_ptr scratch_, int64_t B, int64_t T_, int64_t Hq, int64_t Hkv, int64_t D, float scale,
                     int64_t window, lk_ptr seq_start, lk_ptr seq_end, int dt) {
  LK_REQUIRE(Hkv > 0 && Hq % Hkv == 0, "attention: %ld query heads are not a multiple of %ld kv heads", (long)Hq, (long)Hkv);
  LK_REQUIRE(D <= 128, "attention: head dim %ld > 128 is not supported on CUDA", (long)D);
  float *dsum = at<float>(scratch_);
  const int32_t *starts = seq_start ? at<int32_t>(seq_start) : nullptr, *ends = seq_end ? at<int32_t>(seq_end) : nullptr;
  const dim3 gq((unsigned)((T_ + BQ - 1) / BQ), (unsigned)Hq, (unsigned)B);
  const dim3 gk((unsigned)((T_ + BK - 1) / BK), (unsigned)Hkv, (unsigned)B);
  const unsigned rows = (unsigned)((B * T_ * Hq + 7) / 8);
#define LK_ATTN_BWD(DPT)                                                                                              \
  do {                                                                                                                \
    attn_bwd_dq<T, DPT><<<gq, THREADS, 0, g_stream>>>(at<T>(dq), at<T>(dout), at<float>(lse), dsum, at<T>(q), at<T>(k), \
                                                      at<T>(v), T_, Hq, Hkv, D, scale, window, starts);               \
    attn_bwd_dkv<T, DPT><<<gk, THREADS, 0, g_stream>>>(at<T>(dk), at<T>(dv), at<T>(dout), at<float>(lse), dsum,       \
                                                       at<T>(q), at<T>(k), at<T>(v), T_, Hq, Hkv, D, scale, window,   \
                                                       starts, ends);                                                 \
  } while (0)
  LK_DISPATCH(dt, "attention_bwd", {
    attn_bwd_dot<T><<<rows, 256, 0, g_stream>>>(dsum, at<T>(dout), at<T>(out), B, T_, Hq, D);
    if (!getenv("LOOM_ATTENTION_SIMT")) {
      int rc = attention_bwd_wgmma(dq, dk, dv, dout, lse, dsum, q, k, v, B, T_, Hq, Hkv, D, scale, window, seq_start, seq_end, dt);
      if (rc == LK_ERR_UNSUPPORTED)
        rc = attention_bwd_tc(dq, dk, dv, dout, lse, dsum, q, k, v, B, T_, Hq, Hkv, D, scale, window, seq_start, seq_end, dt);
      if (rc != LK_ERR_UNSUPPORTED) return rc;
    }
    if (D <= 8) LK_ATTN_BWD(2);
    else if (D <= 16) LK_ATTN_BWD(4);
    else if (D <= 32) LK_ATTN_BWD(8);
    else if (D <= 64) LK_ATTN_BWD(16);
    else LK_ATTN_BWD(32);
  });
#undef LK_ATTN_BWD
  return launch_check("attention_bwd");
}

int lk_kv_append(lk_ptr kcache, lk_ptr vcache, lk_ptr k, lk_ptr v, lk_ptr slot, lk_ptr pos, int64_t N, int64_t S,
                 int64_t Tmax, int64_t Hkv, int64_t D, int dt) {
  (void)S;  // positions and slots are device data: the caller checks them, as the CPU backend does
  if (N == 0) return LK_OK;
  LK_DISPATCH(dt, "kv_append",
              launch(kv_append_kernel<T>, blocks_for(N * Hkv * D, 256), 256, 0,
                  at<T>(kcache), at<T>(vcache), at<T>(k), at<T>(v), at<int32_t>(slot), at<int32_t>(pos), N, Tmax, Hkv * D));
  return launch_check("kv_append");
}

int lk_attention_decode(lk_ptr out, lk_ptr q, lk_ptr kcache, lk_ptr vcache, lk_ptr slot, lk_ptr pos, int64_t B,
                        int64_t Tq, int64_t S, int64_t Tmax, int64_t Hq, int64_t Hkv, int64_t D, float scale,
                        int64_t window, lk_ptr workspace, int dt) {
  (void)S;
  LK_REQUIRE(Hkv > 0 && Hq % Hkv == 0, "attention: %ld query heads are not a multiple of %ld kv heads", (long)Hq, (long)Hkv);
  // Enough splits for about LOOM_DECODE_BLOCKS_PER_SM blocks per SM, each of at least
  // LK_DECODE_KEYS keys; fixed by the shapes alone, so a captured graph stays valid as the
  // sequences grow. Batch-invariant mode: runs of LK_DECODE_KEYS keys whatever the batch (the
  // merge adds an empty run's exact zero).
  static const int64_t per_sm = getenv("LOOM_DECODE_BLOCKS_PER_SM") ? std::max(1, atoi(getenv("LOOM_DECODE_BLOCKS_PER_SM"))) : 2;
  const int64_t rows = B * Tq * Hq, most = (Tmax + LK_DECODE_KEYS - 1) / LK_DECODE_KEYS;
  int64_t splits = g_batch_invariant ? most : std::min(most, std::max<int64_t>(1, (per_sm * g_sm_count + rows - 1) / rows));
  if (splits > 1 && !workspace) splits = 1;
  const int64_t chunk = ((Tmax + splits - 1) / splits + LK_DECODE_KEYS - 1) / LK_DECODE_KEYS * LK_DECODE_KEYS;
  splits = (Tmax + chunk - 1) / chunk;
  const dim3 grid((unsigned)splits, (unsigned)(Tq * Hq), (unsigned)B);
  float *part = splits > 1 ? at<float>(workspace) : nullptr;
#define LK_DECODE(DPL)                                                                                              \
  launch(attn_decode<T, DPL>, grid, 128, 0, at<T>(out), part, at<T>(q), at<T>(kcache), at<T>(vcache),       \
                                                  slot ? at<int32_t>(slot) : nullptr, at<int32_t>(pos), Tq, Tmax, Hq, \
                                                  Hkv, D, scale, window, chunk)
  LK_DISPATCH(dt, "attention_decode", {
    if (D <= 32) LK_DECODE(1);
    else if (D <= 64) LK_DECODE(2);
    else if (D <= 128) LK_DECODE(4);
    else if (D <= 256) LK_DECODE(8);
    else return fail(LK_ERR_UNSUPPORTED, "attention_decode: head dim %ld > 256", (long)D);
    LK_CHECK(launch_check("attention_decode"));
    if (splits > 1) launch(decode_merge<T>, (unsigned)rows, 64, 0, at<T>(out), part, splits, D);
  });
#undef LK_DECODE
  return launch_check("attention_decode");
}

}  // extern "C"
