// CUDA backend: elementwise ops, reductions, embedding, RMSNorm, RoPE, SwiGLU, dropout, AdamW.
#include <type_traits>

#include <cub/device/device_radix_sort.cuh>

#include "common.cuh"

using namespace lk;

namespace {

constexpr int TPB = 256;

#define GRID_STRIDE(i, n) for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < (n); i += (int64_t)gridDim.x * blockDim.x)

template <typename D, typename S>
__global__ void cast_kernel(D *dst, const S *src, int64_t n) {
  GRID_STRIDE(i, n) st(dst, i, ld(src, i));
}

template <typename T>
__global__ void fill_kernel(T *x, int64_t n, float v) {
  GRID_STRIDE(i, n) st(x, i, v);
}
__global__ void fill_i32_kernel(int32_t *x, int64_t n, int32_t v) {
  GRID_STRIDE(i, n) x[i] = v;
}

// ---- elementwise maps: 8 elements a thread through 16-byte loads where the pointers allow ----
// With one 2-byte load per thread too few bytes are in flight to fill HBM: bf16 elementwise ops
// ran at about 40% of the copy bandwidth.

template <typename T, int NI, int NO>
struct MapArgs {
  const T *in[NI];
  T *out[NO];
  int64_t n;
  bool vec;  // every pointer 16-byte aligned
};

// out[k][i] = f(in[0][i], ..., in[NI-1][i])[k]; F is a functor with operator()(const float (&)[NI], float (&)[NO])
template <typename T, int NI, int NO, typename F>
__global__ void map_kernel(MapArgs<T, NI, NO> a, F f) {
  pdl_wait();
  const int64_t stride = (int64_t)gridDim.x * blockDim.x, tid = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  const int64_t groups = a.vec ? a.n / VEC : 0;
  for (int64_t g = tid; g < groups; g += stride) {
    float in[NI][VEC], out[NO][VEC];
#pragma unroll
    for (int k = 0; k < NI; ++k) load8(in[k], a.in[k] + g * VEC);
#pragma unroll
    for (int e = 0; e < VEC; ++e) {
      float x[NI], y[NO];
#pragma unroll
      for (int k = 0; k < NI; ++k) x[k] = in[k][e];
      f(x, y);
#pragma unroll
      for (int k = 0; k < NO; ++k) out[k][e] = y[k];
    }
#pragma unroll
    for (int k = 0; k < NO; ++k) store8(a.out[k] + g * VEC, out[k]);
  }
  for (int64_t i = groups * VEC + tid; i < a.n; i += stride) {
    float x[NI], y[NO];
#pragma unroll
    for (int k = 0; k < NI; ++k) x[k] = ld(a.in[k], i);
    f(x, y);
#pragma unroll
    for (int k = 0; k < NO; ++k) st(a.out[k], i, y[k]);
  }
}

struct AddOp {
  __device__ void operator()(const float (&x)[2], float (&y)[1]) const { y[0] = x[0] + x[1]; }
};
struct AxpyOp {  // y += alpha x
  float alpha;
  __device__ void operator()(const float (&x)[2], float (&y)[1]) const { y[0] = x[0] + alpha * x[1]; }
};
struct SwigluOp {  // silu(gate) * up
  __device__ void operator()(const float (&x)[2], float (&y)[1]) const { y[0] = x[0] / (1.f + __expf(-x[0])) * x[1]; }
};
struct SwigluBackOp {  // (dout, gate, up) -> (dgate, dup)
  __device__ void operator()(const float (&x)[3], float (&y)[2]) const {
    const float d = x[0], g = x[1], sg = 1.f / (1.f + __expf(-g));
    y[0] = d * x[2] * sg * (1.f + g * (1.f - sg));
    y[1] = d * g * sg;
  }
};

// SwigluOp over the rows of a joined [rows, 2F] gate/up product: the same bits as swiglu on the
// two halves apart, in one launch
template <typename T>
__global__ void swiglu_joined_kernel(T *out, const T *gate_up, int64_t rows, int64_t F) {
  pdl_wait();
  GRID_STRIDE(i, rows * F) {
    const int64_t r = i / F, f = i % F;
    float y[1];
    SwigluOp{}({ld(gate_up, 2 * r * F + f), ld(gate_up, (2 * r + 1) * F + f)}, y);
    st(out, i, y[0]);
  }
}

template <typename T>
__global__ void scale_kernel(T *x, float alpha, int64_t n) {
  GRID_STRIDE(i, n) st(x, i, ld(x, i) * alpha);
}

// partial[block] = the block's share of the sum (add_partials adds the blocks in order)
template <typename T, bool SQUARE>
__global__ void sum_kernel(float *partial, const T *x, int64_t n) {
  __shared__ float buf[32];
  float s = 0.f;
  GRID_STRIDE(i, n) {
    const float v = ld(x, i);
    s += SQUARE ? v * v : v;
  }
  s = block_sum(s, buf);
  if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

template <typename T>
__global__ void embedding_fwd_kernel(T *out, const int32_t *ids, const T *table, int64_t N, int64_t V, int64_t C,
                                     int *bad) {
  pdl_wait();
  const int64_t n = blockIdx.x;
  const int32_t id = ids[n];
  if (id < 0 || id >= V) {
    if (threadIdx.x == 0 && bad) atomicCAS(bad, -1, (int)n);
    return;
  }
  for (int64_t c = threadIdx.x; c < C; c += blockDim.x) out[n * C + c] = table[(int64_t)id * C + c];
}

__global__ void iota_kernel(int32_t *x, int64_t n) {
  GRID_STRIDE(i, n) x[i] = (int32_t)i;
}

// Positions sorted by token id (stably, so each id's positions ascend): the block at the first
// position of an id adds that id's rows of dout, in position order, to its row of dtable, so no
// two blocks write one row. blockIdx.y picks the block's columns.
template <typename T>
__global__ void embedding_bwd_kernel(float *dtable, const T *dout, const int32_t *sorted_ids, const int32_t *positions,
                                     int64_t N, int64_t V, int64_t C) {
  const int64_t first = blockIdx.x, c = blockIdx.y * (int64_t)blockDim.x + threadIdx.x;
  const int32_t id = sorted_ids[first];
  if ((first > 0 && sorted_ids[first - 1] == id) || id < 0 || id >= V || c >= C) return;
  float s = 0.f;
  for (int64_t i = first; i < N && sorted_ids[i] == id; ++i) s += ld(dout, positions[i] * C + c);
  dtable[id * C + c] += s;
}

constexpr int RMSNORM_BATCH = 8;

// rstd of one row of C, for every lane of a warp: each lane sums the squares of elements lane,
// lane + 32, ... in that order, then warp_sum. Both RMSNorm forwards use it, so the fused
// add+RMSNorm's rstd has the bits of rmsnorm's. RMSNORM_BATCH loads are issued before any is
// used: at decode, one row is all the GPU has to do, and a load at a time would leave the warp
// waiting on memory latency C/32 times.
template <typename T>
__device__ __forceinline__ float row_rstd(const T *xr, int64_t C, float eps, int lane) {
  float ss = 0.f;
  for (int64_t c0 = lane; c0 < C; c0 += 32 * RMSNORM_BATCH) {
    float v[RMSNORM_BATCH];
#pragma unroll
    for (int j = 0; j < RMSNORM_BATCH; ++j) v[j] = c0 + 32 * j < C ? ld(xr, c0 + 32 * j) : 0.f;
#pragma unroll
    for (int j = 0; j < RMSNORM_BATCH; ++j) ss += v[j] * v[j];
  }
  return rsqrtf(warp_sum(ss) / C + eps);
}

// one warp per row
template <typename T>
__global__ void rmsnorm_fwd_kernel(T *y, float *rstd, const T *x, const T *w, int64_t N, int64_t C, float eps) {
  pdl_wait();
  const int64_t n = blockIdx.x * (int64_t)(blockDim.x / 32) + threadIdx.x / 32;
  const int lane = threadIdx.x & 31;
  if (n >= N) return;
  const T *xr = x + n * C;
  const float r = row_rstd(xr, C, eps, lane);
  if (lane == 0) rstd[n] = r;
  for (int64_t c0 = lane; c0 < C; c0 += 32 * RMSNORM_BATCH) {
    float v[RMSNORM_BATCH], g[RMSNORM_BATCH];
#pragma unroll
    for (int j = 0; j < RMSNORM_BATCH; ++j) {
      const bool in = c0 + 32 * j < C;
      v[j] = in ? ld(xr, c0 + 32 * j) : 0.f;
      g[j] = in ? ld(w, c0 + 32 * j) : 0.f;
    }
#pragma unroll
    for (int j = 0; j < RMSNORM_BATCH; ++j)
      if (c0 + 32 * j < C) st(y, n * C + c0 + 32 * j, v[j] * r * g[j]);
  }
}

// v rounded to T: what a store of it reads back as
template <typename T>
__device__ __forceinline__ float rounded(float v) {
  if constexpr (std::is_same<T, __nv_bfloat16>::value) return __bfloat162float(__float2bfloat16_rn(v));
  else return v;
}

// Rows up to this wide take one block of the fused add+RMSNorm (a thread per VEC elements).
constexpr int ADD_RMSNORM_MAX_C = 1024 * VEC;

// A thread's VEC elements of a row, c0 + e * step: one 16-byte access when VEC_IO (step 1,
// C % VEC == 0, 16-byte aligned), else one access each; zeros past C.
template <bool VEC_IO, typename T>
__device__ __forceinline__ void load_part(float (&v)[VEC], const T *p, int64_t c0, int64_t step, int64_t C) {
  if (VEC_IO && c0 < C) {
    load8(v, p + c0);
    return;
  }
#pragma unroll
  for (int e = 0; e < VEC; ++e) v[e] = c0 + e * step < C ? ld(p, c0 + e * step) : 0.f;
}
template <bool VEC_IO, typename T>
__device__ __forceinline__ void store_part(T *p, const float (&v)[VEC], int64_t c0, int64_t step, int64_t C) {
  if (VEC_IO && c0 < C) {
    store8(p + c0, v);
    return;
  }
#pragma unroll
  for (int e = 0; e < VEC; ++e)
    if (c0 + e * step < C) st(p, c0 + e * step, v[e]);
}

// sum = a + b and y = rmsnorm(sum) * w: one block per row, a thread per VEC elements (adjacent
// ones when VEC_IO, else strided ones, coalesced either way), every load of a, b and w issued
// before any is used. At decode a row is all the GPU has to do: rmsnorm's single warp waits on
// C/256 round trips to memory for the sum of squares and as many again for y; this block waits
// on one, and the sum never goes back through memory. The sum of squares is rmsnorm's own
// (row_rstd, by warp 0, over the row as stored, kept in shared memory), so rstd and y have the
// bits of add then rmsnorm; its serial part, C/32 additions from shared memory, is short next to
// a trip to memory, and in training (thousands of rows) other blocks fill the wait.
template <typename T, bool VEC_IO>
__global__ void __launch_bounds__(ADD_RMSNORM_MAX_C / VEC)
    add_rmsnorm_fwd_kernel(T *sum, T *y, float *rstd, const T *a, const T *b, const T *w, int64_t C, float eps) {
  pdl_wait();
  extern __shared__ float row[];  // the row's sum, rounded to T
  __shared__ float row_r;
  const int64_t base = blockIdx.x * C;
  const int64_t c0 = VEC_IO ? (int64_t)threadIdx.x * VEC : (int64_t)threadIdx.x;
  const int64_t step = VEC_IO ? 1 : (int64_t)blockDim.x;
  float x[VEC], s[VEC], g[VEC];
  load_part<VEC_IO>(x, a + base, c0, step, C);
  load_part<VEC_IO>(s, b + base, c0, step, C);
  load_part<VEC_IO>(g, w, c0, step, C);
#pragma unroll
  for (int e = 0; e < VEC; ++e) {
    s[e] = rounded<T>(x[e] + s[e]);  // as add computes and stores it
    if (c0 + e * step < C) row[c0 + e * step] = s[e];
  }
  store_part<VEC_IO>(sum + base, s, c0, step, C);
  __syncthreads();
  if (threadIdx.x < 32) {
    const float r = row_rstd(row, C, eps, threadIdx.x);
    if (threadIdx.x == 0) rstd[blockIdx.x] = r, row_r = r;
  }
  __syncthreads();
  const float r = row_r;
#pragma unroll
  for (int e = 0; e < VEC; ++e) s[e] = s[e] * r * g[e];  // as rmsnorm computes y
  store_part<VEC_IO>(y + base, s, c0, step, C);
}

// dx: one warp per row, as the forward
template <typename T>
__global__ void rmsnorm_dx_kernel(T *dx, const T *dy, const T *x, const T *w, const float *rstd, int64_t N, int64_t C) {
  const int64_t n = blockIdx.x * (int64_t)(blockDim.x / 32) + threadIdx.x / 32;
  const int lane = threadIdx.x & 31;
  if (n >= N) return;
  const T *xr = x + n * C, *g = dy + n * C;
  const float r = rstd[n];
  float dot = 0.f;
  for (int64_t c = lane; c < C; c += 32) dot += ld(g, c) * ld(w, c) * ld(xr, c);
  const float k = warp_sum(dot) * r * r * r / C;
  for (int64_t c = lane; c < C; c += 32) st(dx, n * C + c, r * ld(g, c) * ld(w, c) - ld(xr, c) * k);
}

// partial[y][c] = sum over the rows of split y of dy·x·rstd: a thread owns a column over a range
// of rows (coalesced across the warp); add_partials adds the splits to dw
template <typename T>
__global__ void rmsnorm_dw_kernel(float *partial, const T *dy, const T *x, const float *rstd, int64_t N, int64_t C,
                                  int64_t rows) {
  const int64_t c = blockIdx.x * (int64_t)blockDim.x + threadIdx.x, n0 = blockIdx.y * rows;
  if (c >= C) return;
  const int64_t n1 = min(N, n0 + rows);
  float acc = 0.f;
  for (int64_t n = n0; n < n1; ++n) acc += ld(dy, n * C + c) * ld(x, n * C + c) * rstd[n];
  partial[blockIdx.y * C + c] = acc;
}

// One block per token: its heads share the position, so the LogN scale is computed once; a thread
// owns one frequency i (consecutive threads, consecutive i: coalesced) and rotates it in every
// head of its group, so the sine and cosine, the costly part, are computed once per token and
// frequency rather than once per head. Indices stay 32-bit (64-bit division per element made
// this kernel 7x slower than a copy).
template <typename T>
__global__ void rope_kernel(T *out, const T *x, const int32_t *pos, int64_t pos_len, int H, int D, float base,
                            const float *bases, int64_t logn_len, int inverse) {
  pdl_wait();
  const int64_t bt = blockIdx.x, p = pos[bt % pos_len];
  const int half = D / 2, groups = blockDim.x / half, i = threadIdx.x % half;
  const float s = lk_logn_scale(p, logn_len), sgn = inverse ? -s : s;
  float sn, c;
  sincosf((float)p * lk_rope_inv_freq(bases ? bases[bt % pos_len] : base, i, D), &sn, &c);
  c *= s;
  sn *= sgn;
  const T *xr = x + bt * H * D;
  T *orow = out + bt * H * D;
  for (int h = threadIdx.x / half; h < H; h += groups) {
    const int o = h * D + i;
    const float a = ld(xr, o), b = ld(xr, o + half);
    st(orow, o, a * c - b * sn);
    st(orow, o + half, b * c + a * sn);
  }
}

// lk_rope_append: one block per token, a thread per (head, pair) of its query and key heads, as
// rope_kernel computes them (the same bits); then the block copies the values.
template <typename T>
__global__ void rope_append_kernel(T *q, T *kc, T *vc, const T *qkv, const int32_t *pos, const int32_t *slot, int Tmax,
                                   int Hq, int Hkv, int D, float base, const float *bases, int64_t logn_len) {
  pdl_wait();
  const int64_t n = blockIdx.x, p = pos[n], sl = slot[n];
  const int half = D / 2, groups = blockDim.x / half, i = threadIdx.x % half;
  float sn0, c0;
  sincosf((float)p * lk_rope_inv_freq(bases ? bases[n] : base, i, D), &sn0, &c0);
  const float sq = lk_logn_scale(p, logn_len), sk = lk_logn_scale(p, 0);
  const T *row = qkv + n * (int64_t)(Hq + 2 * Hkv) * D;
  const int64_t to = (sl * Tmax + p) * (int64_t)Hkv * D;
  for (int h = threadIdx.x / half; h < Hq + Hkv; h += groups) {
    const bool query = h < Hq;
    if (!query && sl < 0) break;
    const float s = query ? sq : sk, c = c0 * s, sn = sn0 * s;
    T *orow = query ? q + (n * Hq + h) * (int64_t)D : kc + to + (int64_t)(h - Hq) * D;
    const int o = h * D + i;
    const float a = ld(row, o), b = ld(row, o + half);
    st(orow, i, a * c - b * sn);
    st(orow, i + half, b * c + a * sn);
  }
  if (sl < 0) return;
  for (int e = threadIdx.x; e < Hkv * D; e += blockDim.x) vc[to + e] = row[(Hq + Hkv) * D + e];
}

template <typename T>
__global__ void dropout_kernel(T *out, const T *x, int64_t n, float p, uint64_t seed) {
  const float k = 1.f / (1.f - p);
  GRID_STRIDE(i, n) st(out, i, lk_uniform(seed, (uint64_t)i) >= p ? ld(x, i) * k : 0.f);
}

__global__ void clip_kernel(float *coef, float *norm, const float *sumsq, float max_norm) {
  const float nm = sqrtf(*sumsq);
  *norm = nm;
  *coef = max_norm > 0.f ? fminf(1.f, max_norm / (nm + 1e-6f)) : 1.f;
}

template <typename W>
__global__ void adamw_kernel(float *p, const float *g, float *m, float *v, W *working, int64_t n, float lr, float b1,
                             float b2, float eps, float wd, float bc1, float bc2, const float *gscale) {
  const float gs = gscale ? *gscale : 1.f;
  GRID_STRIDE(i, n) {
    const float gi = g[i] * gs;
    const float mi = b1 * m[i] + (1.f - b1) * gi;
    const float vi = b2 * v[i] + (1.f - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    const float pi = p[i] - lr * ((mi / bc1) / (sqrtf(vi / bc2) + eps) + wd * p[i]);
    p[i] = pi;
    if (working) st(working, i, pi);
  }
}

// Four elements per thread with 16-byte loads: AdamW is purely bandwidth-bound.
template <typename W>
__global__ void adamw4_kernel(float4 *p, const float4 *g, float4 *m, float4 *v, W *working, int64_t n4, float lr,
                              float b1, float b2, float eps, float wd, float bc1, float bc2, const float *gscale) {
  const float gs = gscale ? *gscale : 1.f;
  GRID_STRIDE(i, n4) {
    const float4 gi = g[i];
    float4 pi = p[i], mi = m[i], vi = v[i];
    float *pp = &pi.x, *mp = &mi.x, *vp = &vi.x;
    const float *gp = &gi.x;
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      const float ge = gp[e] * gs;
      mp[e] = b1 * mp[e] + (1.f - b1) * ge;
      vp[e] = b2 * vp[e] + (1.f - b2) * ge * ge;
      pp[e] -= lr * ((mp[e] / bc1) / (sqrtf(vp[e] / bc2) + eps) + wd * pp[e]);
    }
    p[i] = pi;
    m[i] = mi;
    v[i] = vi;
    if (working) {
      if constexpr (std::is_same<W, __nv_bfloat16>::value) {  // one 8-byte store
        __nv_bfloat162 lo = __floats2bfloat162_rn(pp[0], pp[1]), hi = __floats2bfloat162_rn(pp[2], pp[3]);
        reinterpret_cast<uint2 *>(working)[i] =
            make_uint2(*reinterpret_cast<uint32_t *>(&lo), *reinterpret_cast<uint32_t *>(&hi));
      } else {
        reinterpret_cast<float4 *>(working)[i] = pi;
      }
    }
  }
}

int grid(int64_t n) { return blocks_for(n, TPB, (int64_t)g_sm_count * 32); }

template <typename T, int NI, int NO, typename F>
int map(const char *op, const lk_ptr (&in)[NI], const lk_ptr (&out)[NO], int64_t n, F f) {
  MapArgs<T, NI, NO> a{};
  lk_ptr any = 0;
  for (int k = 0; k < NI; ++k) a.in[k] = at<T>(in[k]), any |= in[k];
  for (int k = 0; k < NO; ++k) a.out[k] = at<T>(out[k]), any |= out[k];
  a.n = n;
  a.vec = (any & 15) == 0;
  launch(map_kernel<T, NI, NO, F>, grid(a.vec ? (n + VEC - 1) / VEC : n), TPB, 0, a, f);
  return launch_check(op);
}

template <bool SQUARE>
int sum(const char *op, lk_ptr out, lk_ptr x, int64_t n, int dt, int accumulate) {
  if (!accumulate) LK_CHECK(lk_memset0(out, 4));
  const int blocks = grid(n);
  float *sums = partial_sums(blocks);
  if (!sums) return fail(LK_ERR_OOM, "%s: scratch allocation failed", op);
  LK_DISPATCH(dt, op, sum_kernel<T, SQUARE><<<blocks, TPB, 0, g_stream>>>(sums, at<T>(x), n));
  LK_CHECK(launch_check(op));
  return add_partials(at<float>(out), sums, blocks, 1);
}

}  // namespace

extern "C" {

int lk_fill(lk_ptr x, int64_t n, float value, int dt) {
  if (dt == LK_I32) {
    fill_i32_kernel<<<grid(n), TPB, 0, g_stream>>>(at<int32_t>(x), n, (int32_t)value);
  } else {
    LK_DISPATCH(dt, "fill", fill_kernel<T><<<grid(n), TPB, 0, g_stream>>>(at<T>(x), n, value));
  }
  return launch_check("fill");
}

int lk_cast(lk_ptr dst, int dst_dt, lk_ptr src, int src_dt, int64_t n) {
  if (dst_dt == src_dt) return lk_copy_d2d(dst, src, n * (dst_dt == LK_BF16 ? 2 : 4));
  if (src_dt == LK_F32 && dst_dt == LK_BF16)
    cast_kernel<<<grid(n), TPB, 0, g_stream>>>(at<__nv_bfloat16>(dst), at<float>(src), n);
  else if (src_dt == LK_BF16 && dst_dt == LK_F32)
    cast_kernel<<<grid(n), TPB, 0, g_stream>>>(at<float>(dst), at<__nv_bfloat16>(src), n);
  else
    return fail(LK_ERR_UNSUPPORTED, "cast: dtype %d -> %d is not supported (fp32 <-> bf16 only)", src_dt, dst_dt);
  return launch_check("cast");
}

int lk_add(lk_ptr out, lk_ptr a, lk_ptr b, int64_t n, int dt) {
  LK_DISPATCH(dt, "add", return map<T>("add", {a, b}, {out}, n, AddOp{}));
  return LK_OK;
}

int lk_axpy(lk_ptr y, float alpha, lk_ptr x, int64_t n, int dt) {
  LK_DISPATCH(dt, "axpy", return map<T>("axpy", {y, x}, {y}, n, AxpyOp{alpha}));
  return LK_OK;
}

int lk_scale(lk_ptr x, float alpha, int64_t n, int dt) {
  LK_DISPATCH(dt, "scale", scale_kernel<T><<<grid(n), TPB, 0, g_stream>>>(at<T>(x), alpha, n));
  return launch_check("scale");
}

int lk_sum(lk_ptr out, lk_ptr x, int64_t n, int dt, int accumulate) { return sum<false>("sum", out, x, n, dt, accumulate); }

int lk_sumsq(lk_ptr out, lk_ptr x, int64_t n, int dt, int accumulate) { return sum<true>("sumsq", out, x, n, dt, accumulate); }

int lk_embedding_fwd(lk_ptr out, lk_ptr ids, lk_ptr table, int64_t N, int64_t V, int64_t C, int dt) {
  // A graph being recorded cannot wait for the check; its ids come from the sampler, in range.
  cudaStreamCaptureStatus capturing = cudaStreamCaptureStatusNone;
  LK_CHECK(cuda_check(cudaStreamIsCapturing(g_stream, &capturing), "embedding"));
  if (capturing != cudaStreamCaptureStatusNone) {
    LK_DISPATCH(dt, "embedding_fwd",
                launch(embedding_fwd_kernel<T>, (unsigned)N, 128, 0, at<T>(out), at<int32_t>(ids), at<T>(table), N, V, C, nullptr));
    return launch_check("embedding_fwd");
  }
  int *bad = static_cast<int *>(scratch(sizeof(int), SCRATCH_BAD_ID));
  if (!bad) return fail(LK_ERR_OOM, "embedding: scratch allocation failed");
  LK_CHECK(cuda_check(cudaMemsetAsync(bad, 0xff, sizeof(int), g_stream), "embedding"));
  LK_DISPATCH(dt, "embedding_fwd",
              launch(embedding_fwd_kernel<T>, (unsigned)N, 128, 0, at<T>(out), at<int32_t>(ids), at<T>(table), N, V, C, bad));
  LK_CHECK(launch_check("embedding_fwd"));
  // an out-of-range id is a data error worth a sync: report the position like the CPU backend
  int where = -1;
  LK_CHECK(cuda_check(cudaMemcpyAsync(&where, bad, sizeof(int), cudaMemcpyDeviceToHost, g_stream), "embedding"));
  LK_CHECK(cuda_check(cudaStreamSynchronize(g_stream), "embedding"));
  if (where >= 0) {
    int32_t id = 0;
    cudaMemcpy(&id, at<int32_t>(ids) + where, sizeof id, cudaMemcpyDeviceToHost);
    return fail(LK_ERR_ARG, "embedding: token id %d at position %d is outside the vocabulary [0, %ld)", id, where, (long)V);
  }
  return LK_OK;
}

int lk_embedding_bwd(lk_ptr dtable, lk_ptr dout, lk_ptr ids, int64_t N, int64_t V, int64_t C, int dt) {
  if (N == 0) return LK_OK;
  // scratch: sorted ids, positions in, positions out (N each, 256-byte aligned), then CUB's
  size_t sort_bytes = 0;
  LK_CHECK(cuda_check(cub::DeviceRadixSort::SortPairs(nullptr, sort_bytes, (const int32_t *)nullptr, (int32_t *)nullptr,
                                                      (const int32_t *)nullptr, (int32_t *)nullptr, N, 0, 32, g_stream),
                      "embedding_bwd"));
  const size_t span = ((size_t)N * sizeof(int32_t) + 255) / 256 * 256;
  char *buf = static_cast<char *>(scratch(3 * span + sort_bytes, SCRATCH_REDUCE));
  if (!buf) return fail(LK_ERR_OOM, "embedding_bwd: scratch allocation failed");
  int32_t *sorted_ids = reinterpret_cast<int32_t *>(buf), *order = reinterpret_cast<int32_t *>(buf + span),
          *positions = reinterpret_cast<int32_t *>(buf + 2 * span);
  iota_kernel<<<grid(N), TPB, 0, g_stream>>>(order, N);
  LK_CHECK(launch_check("embedding_bwd"));
  LK_CHECK(cuda_check(cub::DeviceRadixSort::SortPairs(buf + 3 * span, sort_bytes, at<int32_t>(ids), sorted_ids, order,
                                                      positions, N, 0, 32, g_stream),
                      "embedding_bwd"));
  const dim3 blocks((unsigned)N, (unsigned)((C + 127) / 128));
  LK_DISPATCH(dt, "embedding_bwd",
              embedding_bwd_kernel<T><<<blocks, 128, 0, g_stream>>>(at<float>(dtable), at<T>(dout), sorted_ids, positions, N, V, C));
  return launch_check("embedding_bwd");
}

int lk_rmsnorm_fwd(lk_ptr y, lk_ptr rstd, lk_ptr x, lk_ptr w, int64_t N, int64_t C, float eps, int dt) {
  LK_DISPATCH(dt, "rmsnorm_fwd",
              launch(rmsnorm_fwd_kernel<T>, (unsigned)((N + 7) / 8), 256, 0, at<T>(y), at<float>(rstd), at<T>(x), at<T>(w), N, C, eps));
  return launch_check("rmsnorm_fwd");
}

int lk_add_rmsnorm_fwd(lk_ptr sum, lk_ptr y, lk_ptr rstd, lk_ptr a, lk_ptr b, lk_ptr w, int64_t N, int64_t C,
                       float eps, int dt) {
  if (N == 0) return LK_OK;
  if (C > ADD_RMSNORM_MAX_C) {  // wider than a block holds: the two kernels, same bits, one more launch
    LK_CHECK(lk_add(sum, a, b, N * C, dt));
    return lk_rmsnorm_fwd(y, rstd, sum, w, N, C, eps, dt);
  }
  const int threads = (int)((C + 32 * VEC - 1) / (32 * VEC)) * 32;  // whole warps, a thread per VEC elements
  const size_t smem = C * sizeof(float);
  const bool vec = C % VEC == 0 && ((sum | y | a | b | w) & 15) == 0;
  LK_DISPATCH(dt, "add_rmsnorm_fwd", {
    if (vec)
      launch(add_rmsnorm_fwd_kernel<T, true>, (unsigned)N, threads, smem, at<T>(sum), at<T>(y), at<float>(rstd), at<T>(a), at<T>(b), at<T>(w), C, eps);
    else
      launch(add_rmsnorm_fwd_kernel<T, false>, (unsigned)N, threads, smem, at<T>(sum), at<T>(y), at<float>(rstd), at<T>(a), at<T>(b), at<T>(w), C, eps);
  });
  return launch_check("add_rmsnorm_fwd");
}

int lk_rmsnorm_bwd(lk_ptr dx, lk_ptr dw, lk_ptr dy, lk_ptr x, lk_ptr w, lk_ptr rstd, int64_t N, int64_t C, int dt) {
  // rows a dw thread sums: 64 gives enough blocks to fill the GPU and few partial sums (grid.y <= 65535)
  const int64_t rows = std::max<int64_t>(64, (N + 65534) / 65535);
  const int64_t splits = (N + rows - 1) / rows;
  const dim3 dw_grid((unsigned)((C + 255) / 256), (unsigned)splits);
  float *sums = dw ? partial_sums(splits * C) : nullptr;
  if (dw && !sums) return fail(LK_ERR_OOM, "rmsnorm_bwd: scratch allocation failed");
  LK_DISPATCH(dt, "rmsnorm_bwd", {
    rmsnorm_dx_kernel<T><<<(unsigned)((N + 7) / 8), 256, 0, g_stream>>>(at<T>(dx), at<T>(dy), at<T>(x), at<T>(w), at<float>(rstd), N, C);
    if (dw) rmsnorm_dw_kernel<T><<<dw_grid, 256, 0, g_stream>>>(sums, at<T>(dy), at<T>(x), at<float>(rstd), N, C, rows);
  });
  LK_CHECK(launch_check("rmsnorm_bwd"));
  return dw ? add_partials(at<float>(dw), sums, splits, C) : LK_OK;
}

int lk_rope(lk_ptr out, lk_ptr x, lk_ptr pos, int64_t pos_len, int64_t B, int64_t T_, int64_t H, int64_t D, float base,
            lk_ptr bases, int64_t logn_len, int inverse, int dt) {
  LK_REQUIRE(D % 2 == 0, "rope: head dim %ld must be even", (long)D);
  LK_REQUIRE(pos_len == T_ || pos_len == B * T_, "rope: %ld positions for B=%ld T=%ld (need T or B*T)", (long)pos_len,
             (long)B, (long)T_);
  LK_REQUIRE(H * D < (1 << 30), "rope: %ld heads of %ld are too wide", (long)H, (long)D);
  LK_REQUIRE(D <= 2048, "rope: head dim %ld is above 2048", (long)D);
  // a thread per (head, pair) when they fit one block: at decode the block is all the GPU runs, and
  // a loop over heads waited on each head's loads in turn (4.8 us a call on an H100)
  const int half = (int)D / 2, threads = half * std::max<int>(1, std::min<int64_t>(H, 1024 / half));
  LK_DISPATCH(dt, "rope",
              launch(rope_kernel<T>, (unsigned)(B * T_), threads, 0, at<T>(out), at<T>(x), at<int32_t>(pos), pos_len, (int)H, (int)D, base, bases ? at<float>(bases) : nullptr, logn_len, inverse));
  return launch_check("rope");
}

int lk_rope_append(lk_ptr q, lk_ptr kcache, lk_ptr vcache, lk_ptr qkv, lk_ptr pos, lk_ptr slot, int64_t N, int64_t S,
                   int64_t Tmax, int64_t Hq, int64_t Hkv, int64_t D, float base, lk_ptr bases, int64_t logn_len, int dt) {
  (void)S;  // slots and positions are device data: the caller checks them, as for kv_append
  LK_REQUIRE(D % 2 == 0 && D <= 2048, "rope_append: head dim %ld must be even and at most 2048", (long)D);
  LK_REQUIRE((Hq + 2 * Hkv) * D < (1 << 30) && Tmax < (1 << 30), "rope_append: %ld heads of %ld are too wide",
             (long)(Hq + 2 * Hkv), (long)D);
  if (N == 0) return LK_OK;
  const int half = (int)D / 2, threads = half * std::max<int>(1, std::min<int64_t>(Hq + Hkv, 1024 / half));
  LK_DISPATCH(dt, "rope_append",
              launch(rope_append_kernel<T>, (unsigned)N, threads, 0, at<T>(q), at<T>(kcache), at<T>(vcache), at<T>(qkv),
                     at<int32_t>(pos), at<int32_t>(slot), (int)Tmax, (int)Hq, (int)Hkv, (int)D, base,
                     bases ? at<float>(bases) : nullptr, logn_len));
  return launch_check("rope_append");
}

int lk_swiglu_fwd(lk_ptr out, lk_ptr gate, lk_ptr up, int64_t n, int dt) {
  LK_DISPATCH(dt, "swiglu_fwd", return map<T>("swiglu_fwd", {gate, up}, {out}, n, SwigluOp{}));
  return LK_OK;
}

int lk_swiglu_joined_fwd(lk_ptr out, lk_ptr gate_up, int64_t rows, int64_t F, int dt) {
  LK_DISPATCH(dt, "swiglu_joined_fwd",
              launch(swiglu_joined_kernel<T>, grid(rows * F), TPB, 0, at<T>(out), at<T>(gate_up), rows, F));
  return launch_check("swiglu_joined_fwd");
}

int lk_swiglu_bwd(lk_ptr dgate, lk_ptr dup, lk_ptr dout, lk_ptr gate, lk_ptr up, int64_t n, int dt) {
  LK_DISPATCH(dt, "swiglu_bwd", return map<T>("swiglu_bwd", {dout, gate, up}, {dgate, dup}, n, SwigluBackOp{}));
  return LK_OK;
}

int lk_dropout_fwd(lk_ptr out, lk_ptr x, int64_t n, float p, uint64_t seed, int dt) {
  LK_REQUIRE(p >= 0.f && p < 1.f, "dropout: p=%g must be in [0, 1)", p);
  LK_DISPATCH(dt, "dropout", dropout_kernel<T><<<grid(n), TPB, 0, g_stream>>>(at<T>(out), at<T>(x), n, p, seed));
  return launch_check("dropout");
}

int lk_dropout_bwd(lk_ptr dx, lk_ptr dout, int64_t n, float p, uint64_t seed, int dt) {
  return lk_dropout_fwd(dx, dout, n, p, seed, dt);
}

int lk_clip_coef(lk_ptr coef, lk_ptr norm, lk_ptr sumsq, float max_norm) {
  clip_kernel<<<1, 1, 0, g_stream>>>(at<float>(coef), at<float>(norm), at<float>(sumsq), max_norm);
  return launch_check("clip_coef");
}

int lk_adamw(lk_ptr master, lk_ptr grad, lk_ptr m, lk_ptr v, lk_ptr working, int working_dt, int64_t n, float lr,
             float beta1, float beta2, float eps, float weight_decay, int64_t step, lk_ptr grad_scale) {
  LK_REQUIRE(step >= 1, "adamw: step %ld must start at 1", (long)step);
  const float bc1 = 1.f - powf(beta1, (float)step), bc2 = 1.f - powf(beta2, (float)step);
  const float *gs = grad_scale ? at<float>(grad_scale) : nullptr;
  LK_REQUIRE(!working || working_dt == LK_F32 || working_dt == LK_BF16, "adamw: working copy dtype %d", working_dt);
  const bool vec = n % 4 == 0 && ((master | grad | m | v) & 15) == 0 && (working & (working_dt == LK_BF16 ? 7 : 15)) == 0;
#define LK_ADAMW(W)                                                                                                   \
  do {                                                                                                                \
    W *wk = working ? at<W>(working) : nullptr;                                                                       \
    if (vec)                                                                                                          \
      adamw4_kernel<W><<<grid(n / 4), TPB, 0, g_stream>>>(at<float4>(master), at<float4>(grad), at<float4>(m),        \
                                                          at<float4>(v), wk, n / 4, lr, beta1, beta2, eps,            \
                                                          weight_decay, bc1, bc2, gs);                                \
    else                                                                                                              \
      adamw_kernel<W><<<grid(n), TPB, 0, g_stream>>>(at<float>(master), at<float>(grad), at<float>(m), at<float>(v),  \
                                                     wk, n, lr, beta1, beta2, eps, weight_decay, bc1, bc2, gs);       \
  } while (0)
  if (working_dt == LK_BF16 && working) LK_ADAMW(__nv_bfloat16);
  else LK_ADAMW(float);
#undef LK_ADAMW
  return launch_check("adamw");
}

}  // extern "C"
