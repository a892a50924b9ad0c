// CUDA backend: tensor-core flash attention (FlashAttention-2 layout) for bf16 with head dim 64
// or 128 — the training shapes. Other dtypes and head dims use attention.cu's kernels.
//
// Each block has 4 warps; a warp owns 16 rows (queries, or keys in the dK/dV kernel) and issues
// mma.sync m16n8k16 (bf16 in, fp32 accumulate) with its scores, probabilities and outputs held
// in registers: the accumulator layout of a score tile is reused directly as the A operand of
// the next product, as FlashAttention-2 does. K/V (or Q/dO) tiles of 64 rows stream through
// shared memory with cp.async, double-buffered. The backward recomputes probabilities from the
// saved log-sum-exp in two kernels (dK/dV per key block, dQ per query block): no atomics.
#include "common.cuh"

using namespace lk;

namespace {

typedef __nv_bfloat16 bf16;
constexpr int WARPS = 4, TILE = 64;

// ---- PTX wrappers ----

__device__ __forceinline__ void mma(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ __forceinline__ uint32_t smem_addr(const void *p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// four 8x8 bf16 matrices, transposed: the B operand of two n-tiles from a row-major [k][n] tile
__device__ __forceinline__ void ldsm_x4_trans(uint32_t (&r)[4], const bf16 *p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_addr(p)));
}

__device__ __forceinline__ void cp_async16(void *dst, const void *src, bool valid) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_addr(dst)), "l"(src), "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void cp_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void cp_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

__device__ __forceinline__ uint32_t pack(float lo, float hi) {
  __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<uint32_t *>(&v);
}

// ---- fragments from shared memory (row-major tiles with a padded stride `ld`) ----

// A operand (16x16) at rows r0.., cols c0..
__device__ __forceinline__ void load_a(uint32_t (&a)[4], const bf16 *t, int ld, int r0, int c0, int lane) {
  const bf16 *p = t + (r0 + lane / 4) * ld + c0 + (lane % 4) * 2;
  a[0] = *reinterpret_cast<const uint32_t *>(p);
  a[1] = *reinterpret_cast<const uint32_t *>(p + 8 * ld);
  a[2] = *reinterpret_cast<const uint32_t *>(p + 8);
  a[3] = *reinterpret_cast<const uint32_t *>(p + 8 * ld + 8);
}

// B operand (16x8, k x n) when the tile stores n as rows: element (k, n) = t[(n0+n)*ld + k0+k]
__device__ __forceinline__ void load_b_rows(uint32_t &b0, uint32_t &b1, const bf16 *t, int ld, int n0, int k0,
                                            int lane) {
  const bf16 *p = t + (n0 + lane / 4) * ld + k0 + (lane % 4) * 2;
  b0 = *reinterpret_cast<const uint32_t *>(p);
  b1 = *reinterpret_cast<const uint32_t *>(p + 8);
}

// B operands of n-tiles n0 and n0+8 when the tile stores k as rows: element (k, n) = t[(k0+k)*ld + n0+n]
__device__ __forceinline__ void load_b_cols(uint32_t (&b)[4], const bf16 *t, int ld, int k0, int n0, int lane) {
  ldsm_x4_trans(b, t + (k0 + lane % 16) * ld + n0 + (lane / 16) * 8);
}

// 64 rows of head h of x[B,T,H,D] from row r0 into a shared tile (stride D+8), zero past T
template <int D>
__device__ __forceinline__ void stage(bf16 *dst, const bf16 *x, int64_t b, int64_t r0, int64_t T_, int64_t H, int64_t h) {
  constexpr int VEC = D / 8, LD = D + 8;
  for (int idx = threadIdx.x; idx < TILE * VEC; idx += WARPS * 32) {
    const int r = idx / VEC, c = idx % VEC;
    const int64_t row = r0 + r;
    const bool ok = row < T_;
    cp_async16(dst + r * LD + c * 8, x + ((b * T_ + (ok ? row : 0)) * H + h) * D + c * 8, ok);
  }
}

__device__ __forceinline__ bool visible(int64_t i, int64_t j, int64_t T_, int64_t window) {
  return j <= i && i < T_ && (window <= 0 || i - j < window);
}

// ---- forward ----

template <int D>
__global__ void __launch_bounds__(WARPS * 32) attn_fwd_tc(bf16 *out, float *lse, const bf16 *q, const bf16 *k,
                                                          const bf16 *v, int64_t T_, int64_t Hq, int64_t Hkv,
                                                          float scale, int64_t window) {
  constexpr int LD = D + 8, TS = TILE * LD;
  extern __shared__ __align__(128) unsigned char smem[];
  bf16 *Qs = reinterpret_cast<bf16 *>(smem), *KV = Qs + TS;  // then 2 stages of (K, V)
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t b = blockIdx.z, h = blockIdx.y, kvh = h / (Hq / Hkv);
  const int64_t q0 = (int64_t)(gridDim.x - 1 - blockIdx.x) * TILE;  // heaviest (latest) query tiles first
  const int64_t jlo = window > 0 ? max((int64_t)0, q0 - window + 1) / TILE * TILE : 0;
  const int64_t jhi = min(T_ - 1, q0 + TILE - 1);
  const int ntiles = (int)((jhi - jlo) / TILE + 1);

  stage<D>(Qs, q, b, q0, T_, Hq, h);
  stage<D>(KV, k, b, jlo, T_, Hkv, kvh);
  stage<D>(KV + TS, v, b, jlo, T_, Hkv, kvh);
  cp_commit();

  const int64_t i0 = q0 + warp * 16 + lane / 4;  // this lane's rows: i0 and i0 + 8
  uint32_t qa[D / 16][4];
  float o[D / 8][4], m[2] = {-INFINITY, -INFINITY}, l[2] = {0.f, 0.f};
#pragma unroll
  for (int n = 0; n < D / 8; ++n) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.f;

  for (int t = 0; t < ntiles; ++t) {
    const int64_t j0 = jlo + (int64_t)t * TILE;
    const bf16 *Ks = KV + (t & 1) * 2 * TS, *Vs = Ks + TS;
    if (t + 1 < ntiles) {
      bf16 *nk = KV + ((t + 1) & 1) * 2 * TS;
      stage<D>(nk, k, b, j0 + TILE, T_, Hkv, kvh);
      stage<D>(nk + TS, v, b, j0 + TILE, T_, Hkv, kvh);
      cp_commit();
      cp_wait<1>();
    } else {
      cp_wait<0>();
    }
    __syncthreads();
    if (t == 0)
#pragma unroll
      for (int kk = 0; kk < D / 16; ++kk) load_a(qa[kk], Qs, LD, warp * 16, kk * 16, lane);

    float s[TILE / 8][4];
#pragma unroll
    for (int n = 0; n < TILE / 8; ++n) {
      s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.f;
#pragma unroll
      for (int kk = 0; kk < D / 16; ++kk) {
        uint32_t b0, b1;
        load_b_rows(b0, b1, Ks, LD, n * 8, kk * 16, lane);
        mma(s[n], qa[kk], b0, b1);
      }
    }
    // online softmax over this lane's two rows; a row's 4 lanes share its max
    float mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
    for (int n = 0; n < TILE / 8; ++n)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int64_t i = i0 + (e / 2) * 8, j = j0 + n * 8 + (lane % 4) * 2 + (e % 2);
        s[n][e] = visible(i, j, T_, window) ? s[n][e] * scale : -INFINITY;
        mx[e / 2] = fmaxf(mx[e / 2], s[n][e]);
      }
    float corr[2];
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
      mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
      const float mn = fmaxf(m[r], mx[r]);
      corr[r] = mn == -INFINITY ? 1.f : __expf(m[r] - mn);
      m[r] = mn;
      l[r] *= corr[r];
    }
#pragma unroll
    for (int n = 0; n < TILE / 8; ++n)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const float p = m[e / 2] == -INFINITY ? 0.f : __expf(s[n][e] - m[e / 2]);
        s[n][e] = p;
        l[e / 2] += p;  // lane-partial; the row's 4 lanes are summed at the end
      }
#pragma unroll
    for (int n = 0; n < D / 8; ++n) {
      o[n][0] *= corr[0], o[n][1] *= corr[0];
      o[n][2] *= corr[1], o[n][3] *= corr[1];
    }
    // O += P V: two score n-tiles form one A operand of 16 keys
#pragma unroll
    for (int kt = 0; kt < TILE / 16; ++kt) {
      const uint32_t pa[4] = {pack(s[2 * kt][0], s[2 * kt][1]), pack(s[2 * kt][2], s[2 * kt][3]),
                              pack(s[2 * kt + 1][0], s[2 * kt + 1][1]), pack(s[2 * kt + 1][2], s[2 * kt + 1][3])};
#pragma unroll
      for (int n = 0; n < D / 8; n += 2) {
        uint32_t vb[4];
        load_b_cols(vb, Vs, LD, kt * 16, n * 8, lane);
        mma(o[n], pa, vb[0], vb[1]);
        mma(o[n + 1], pa, vb[2], vb[3]);
      }
    }
    __syncthreads();  // this stage is refilled two tiles from now
  }
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    l[r] += __shfl_xor_sync(0xffffffffu, l[r], 1);
    l[r] += __shfl_xor_sync(0xffffffffu, l[r], 2);
  }
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int64_t i = i0 + r * 8;
    if (i >= T_) continue;
    const float inv = 1.f / l[r];
    bf16 *orow = out + ((b * T_ + i) * Hq + h) * D + (lane % 4) * 2;
#pragma unroll
    for (int n = 0; n < D / 8; ++n)
      *reinterpret_cast<uint32_t *>(orow + n * 8) = pack(o[n][2 * r] * inv, o[n][2 * r + 1] * inv);
    if (lane % 4 == 0) lse[(b * Hq + h) * T_ + i] = m[r] + logf(l[r]);
  }
}

// ---- backward: dQ (a warp owns 16 queries; key tiles stream) ----

template <int D>
__global__ void __launch_bounds__(WARPS * 32) attn_bwd_dq_tc(bf16 *dq, const bf16 *dout, const float *lse,
                                                             const float *dsum, const bf16 *q, const bf16 *k,
                                                             const bf16 *v, int64_t T_, int64_t Hq, int64_t Hkv,
                                                             float scale, int64_t window) {
  constexpr int LD = D + 8, TS = TILE * LD;
  extern __shared__ __align__(128) unsigned char smem[];
  bf16 *Qs = reinterpret_cast<bf16 *>(smem), *Os = Qs + TS, *KV = Os + TS;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t b = blockIdx.z, h = blockIdx.y, kvh = h / (Hq / Hkv);
  const int64_t q0 = (int64_t)(gridDim.x - 1 - blockIdx.x) * TILE;
  const int64_t jlo = window > 0 ? max((int64_t)0, q0 - window + 1) / TILE * TILE : 0;
  const int64_t jhi = min(T_ - 1, q0 + TILE - 1);
  const int ntiles = (int)((jhi - jlo) / TILE + 1);

  stage<D>(Qs, q, b, q0, T_, Hq, h);
  stage<D>(Os, dout, b, q0, T_, Hq, h);
  stage<D>(KV, k, b, jlo, T_, Hkv, kvh);
  stage<D>(KV + TS, v, b, jlo, T_, Hkv, kvh);
  cp_commit();

  const int64_t i0 = q0 + warp * 16 + lane / 4;
  float li[2], di[2];
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int64_t i = min(i0 + r * 8, T_ - 1);
    li[r] = lse[(b * Hq + h) * T_ + i];
    di[r] = dsum[(b * Hq + h) * T_ + i];
  }
  uint32_t qa[D / 16][4], oa[D / 16][4];
  float acc[D / 8][4];
#pragma unroll
  for (int n = 0; n < D / 8; ++n) acc[n][0] = acc[n][1] = acc[n][2] = acc[n][3] = 0.f;

  for (int t = 0; t < ntiles; ++t) {
    const int64_t j0 = jlo + (int64_t)t * TILE;
    const bf16 *Ks = KV + (t & 1) * 2 * TS, *Vs = Ks + TS;
    if (t + 1 < ntiles) {
      bf16 *nk = KV + ((t + 1) & 1) * 2 * TS;
      stage<D>(nk, k, b, j0 + TILE, T_, Hkv, kvh);
      stage<D>(nk + TS, v, b, j0 + TILE, T_, Hkv, kvh);
      cp_commit();
      cp_wait<1>();
    } else {
      cp_wait<0>();
    }
    __syncthreads();
    if (t == 0)
#pragma unroll
      for (int kk = 0; kk < D / 16; ++kk) {
        load_a(qa[kk], Qs, LD, warp * 16, kk * 16, lane);
        load_a(oa[kk], Os, LD, warp * 16, kk * 16, lane);
      }
    // S = Q Kᵀ and dP = dO Vᵀ, then dS = P (dP - Dsum) in place of S
    float s[TILE / 8][4], dp[TILE / 8][4];
#pragma unroll
    for (int n = 0; n < TILE / 8; ++n) {
      s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.f;
      dp[n][0] = dp[n][1] = dp[n][2] = dp[n][3] = 0.f;
#pragma unroll
      for (int kk = 0; kk < D / 16; ++kk) {
        uint32_t b0, b1;
        load_b_rows(b0, b1, Ks, LD, n * 8, kk * 16, lane);
        mma(s[n], qa[kk], b0, b1);
        load_b_rows(b0, b1, Vs, LD, n * 8, kk * 16, lane);
        mma(dp[n], oa[kk], b0, b1);
      }
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int64_t i = i0 + (e / 2) * 8, j = j0 + n * 8 + (lane % 4) * 2 + (e % 2);
        const float p = visible(i, j, T_, window) ? __expf(s[n][e] * scale - li[e / 2]) : 0.f;
        s[n][e] = p * (dp[n][e] - di[e / 2]);
      }
    }
    // dQ += dS K
#pragma unroll
    for (int kt = 0; kt < TILE / 16; ++kt) {
      const uint32_t sa[4] = {pack(s[2 * kt][0], s[2 * kt][1]), pack(s[2 * kt][2], s[2 * kt][3]),
                              pack(s[2 * kt + 1][0], s[2 * kt + 1][1]), pack(s[2 * kt + 1][2], s[2 * kt + 1][3])};
#pragma unroll
      for (int n = 0; n < D / 8; n += 2) {
        uint32_t kb[4];
        load_b_cols(kb, Ks, LD, kt * 16, n * 8, lane);
        mma(acc[n], sa, kb[0], kb[1]);
        mma(acc[n + 1], sa, kb[2], kb[3]);
      }
    }
    __syncthreads();
  }
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int64_t i = i0 + r * 8;
    if (i >= T_) continue;
    bf16 *row = dq + ((b * T_ + i) * Hq + h) * D + (lane % 4) * 2;
#pragma unroll
    for (int n = 0; n < D / 8; ++n)
      *reinterpret_cast<uint32_t *>(row + n * 8) = pack(acc[n][2 * r] * scale, acc[n][2 * r + 1] * scale);
  }
}

// ---- backward: dK, dV (a warp owns 16 keys; query tiles of every head of the GQA group stream) ----

template <int D>
__global__ void __launch_bounds__(WARPS * 32) attn_bwd_dkv_tc(bf16 *dk, bf16 *dv, const bf16 *dout, const float *lse,
                                                              const float *dsum, const bf16 *q, const bf16 *k,
                                                              const bf16 *v, int64_t T_, int64_t Hq, int64_t Hkv,
                                                              float scale, int64_t window) {
  constexpr int LD = D + 8, TS = TILE * LD;
  extern __shared__ __align__(128) unsigned char smem[];
  bf16 *Ks = reinterpret_cast<bf16 *>(smem), *Vs = Ks + TS, *QO = Vs + TS;  // then 2 stages of (Q, dO)
  float *LD2 = reinterpret_cast<float *>(QO + 4 * TS);                       // 2 stages of (lse, dsum) x 64
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t b = blockIdx.z, g = blockIdx.y, j0 = (int64_t)blockIdx.x * TILE, group = Hq / Hkv;
  const int64_t ihi = window > 0 ? min(T_ - 1, j0 + TILE - 1 + window - 1) : T_ - 1;
  const int per_head = (int)((ihi - j0) / TILE + 1), ntiles = per_head * (int)group;

  auto issue = [&](int t) {  // stage query tile t (head-major) into buffer t & 1
    const int64_t h = g * group + t / per_head, i0 = j0 + (int64_t)(t % per_head) * TILE;
    bf16 *dst = QO + (t & 1) * 2 * TS;
    stage<D>(dst, q, b, i0, T_, Hq, h);
    stage<D>(dst + TS, dout, b, i0, T_, Hq, h);
    float *ld = LD2 + (t & 1) * 2 * TILE;
    if (threadIdx.x < TILE) {
      const int64_t i = min(i0 + threadIdx.x, T_ - 1);
      ld[threadIdx.x] = lse[(b * Hq + h) * T_ + i];
      ld[TILE + threadIdx.x] = dsum[(b * Hq + h) * T_ + i];
    }
  };
  stage<D>(Ks, k, b, j0, T_, Hkv, g);
  stage<D>(Vs, v, b, j0, T_, Hkv, g);
  issue(0);
  cp_commit();

  const int64_t jr = j0 + warp * 16 + lane / 4;  // this lane's keys: jr and jr + 8
  float dka[D / 8][4], dva[D / 8][4];
#pragma unroll
  for (int n = 0; n < D / 8; ++n)
#pragma unroll
    for (int e = 0; e < 4; ++e) dka[n][e] = dva[n][e] = 0.f;

  for (int t = 0; t < ntiles; ++t) {
    const int64_t i0 = j0 + (int64_t)(t % per_head) * TILE;
    const bf16 *Qs = QO + (t & 1) * 2 * TS, *Os = Qs + TS;
    const float *Lr = LD2 + (t & 1) * 2 * TILE, *Dr = Lr + TILE;
    if (t + 1 < ntiles) {
      issue(t + 1);
      cp_commit();
      cp_wait<1>();
    } else {
      cp_wait<0>();
    }
    __syncthreads();
    // Sᵀ = K Qᵀ and dPᵀ = V dOᵀ for this warp's 16 keys x 64 queries
    float s[TILE / 8][4], dp[TILE / 8][4];
#pragma unroll
    for (int n = 0; n < TILE / 8; ++n) {
      s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.f;
      dp[n][0] = dp[n][1] = dp[n][2] = dp[n][3] = 0.f;
    }
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk) {
      uint32_t ka[4], va[4];
      load_a(ka, Ks, LD, warp * 16, kk * 16, lane);
      load_a(va, Vs, LD, warp * 16, kk * 16, lane);
#pragma unroll
      for (int n = 0; n < TILE / 8; ++n) {
        uint32_t b0, b1;
        load_b_rows(b0, b1, Qs, LD, n * 8, kk * 16, lane);
        mma(s[n], ka, b0, b1);
        load_b_rows(b0, b1, Os, LD, n * 8, kk * 16, lane);
        mma(dp[n], va, b0, b1);
      }
    }
    // Pᵀ into s, dSᵀ into dp
#pragma unroll
    for (int n = 0; n < TILE / 8; ++n)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int c = n * 8 + (lane % 4) * 2 + (e % 2);
        const int64_t j = jr + (e / 2) * 8;
        const float p = (visible(i0 + c, j, T_, window) && j < T_) ? __expf(s[n][e] * scale - Lr[c]) : 0.f;
        s[n][e] = p;
        dp[n][e] = p * (dp[n][e] - Dr[c]);
      }
    // dV += Pᵀ dO, dK += dSᵀ Q
#pragma unroll
    for (int kt = 0; kt < TILE / 16; ++kt) {
      const uint32_t pa[4] = {pack(s[2 * kt][0], s[2 * kt][1]), pack(s[2 * kt][2], s[2 * kt][3]),
                              pack(s[2 * kt + 1][0], s[2 * kt + 1][1]), pack(s[2 * kt + 1][2], s[2 * kt + 1][3])};
      const uint32_t da[4] = {pack(dp[2 * kt][0], dp[2 * kt][1]), pack(dp[2 * kt][2], dp[2 * kt][3]),
                              pack(dp[2 * kt + 1][0], dp[2 * kt + 1][1]), pack(dp[2 * kt + 1][2], dp[2 * kt + 1][3])};
#pragma unroll
      for (int n = 0; n < D / 8; n += 2) {
        uint32_t ob[4], qb[4];
        load_b_cols(ob, Os, LD, kt * 16, n * 8, lane);
        mma(dva[n], pa, ob[0], ob[1]);
        mma(dva[n + 1], pa, ob[2], ob[3]);
        load_b_cols(qb, Qs, LD, kt * 16, n * 8, lane);
        mma(dka[n], da, qb[0], qb[1]);
        mma(dka[n + 1], da, qb[2], qb[3]);
      }
    }
    __syncthreads();
  }
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int64_t j = jr + r * 8;
    if (j >= T_) continue;
    const int64_t off = ((b * T_ + j) * Hkv + g) * D + (lane % 4) * 2;
#pragma unroll
    for (int n = 0; n < D / 8; ++n) {
      *reinterpret_cast<uint32_t *>(dk + off + n * 8) = pack(dka[n][2 * r] * scale, dka[n][2 * r + 1] * scale);
      *reinterpret_cast<uint32_t *>(dv + off + n * 8) = pack(dva[n][2 * r], dva[n][2 * r + 1]);
    }
  }
}

template <typename K>
int configure(K kernel, size_t bytes, const char *op) {
  return cuda_check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes), op);
}

template <int D>
int launch_fwd(lk_ptr out, lk_ptr lse, lk_ptr q, lk_ptr k, lk_ptr v, int64_t B, int64_t T_, int64_t Hq, int64_t Hkv,
               float scale, int64_t window) {
  const size_t bytes = 5 * TILE * (D + 8) * sizeof(bf16);  // Q + 2 x (K, V)
  static const int rc = configure(attn_fwd_tc<D>, bytes, "attention_fwd");
  if (rc != LK_OK) return rc;
  const dim3 grid((unsigned)((T_ + TILE - 1) / TILE), (unsigned)Hq, (unsigned)B);
  attn_fwd_tc<D><<<grid, WARPS * 32, bytes, g_stream>>>(at<bf16>(out), at<float>(lse), at<bf16>(q), at<bf16>(k),
                                                        at<bf16>(v), T_, Hq, Hkv, scale, window);
  return launch_check("attention_fwd");
}

template <int D>
int launch_bwd(lk_ptr dq, lk_ptr dk, lk_ptr dv, lk_ptr dout, lk_ptr lse, const float *dsum, lk_ptr q, lk_ptr k, lk_ptr v,
               int64_t B, int64_t T_, int64_t Hq, int64_t Hkv, float scale, int64_t window) {
  const size_t dq_bytes = 6 * TILE * (D + 8) * sizeof(bf16);                                  // Q, dO + 2 x (K, V)
  const size_t dkv_bytes = 6 * TILE * (D + 8) * sizeof(bf16) + 4 * TILE * sizeof(float);     // K, V + 2 x (Q, dO, lse, dsum)
  static const int rc1 = configure(attn_bwd_dq_tc<D>, dq_bytes, "attention_bwd");
  static const int rc2 = configure(attn_bwd_dkv_tc<D>, dkv_bytes, "attention_bwd");
  if (rc1 != LK_OK) return rc1;
  if (rc2 != LK_OK) return rc2;
  const unsigned tiles = (unsigned)((T_ + TILE - 1) / TILE);
  attn_bwd_dkv_tc<D><<<dim3(tiles, (unsigned)Hkv, (unsigned)B), WARPS * 32, dkv_bytes, g_stream>>>(
      at<bf16>(dk), at<bf16>(dv), at<bf16>(dout), at<float>(lse), dsum, at<bf16>(q), at<bf16>(k), at<bf16>(v), T_, Hq,
      Hkv, scale, window);
  attn_bwd_dq_tc<D><<<dim3(tiles, (unsigned)Hq, (unsigned)B), WARPS * 32, dq_bytes, g_stream>>>(
      at<bf16>(dq), at<bf16>(dout), at<float>(lse), dsum, at<bf16>(q), at<bf16>(k), at<bf16>(v), T_, Hq, Hkv, scale,
      window);
  return launch_check("attention_bwd");
}

}  // namespace

namespace lk {

// Return LK_ERR_UNSUPPORTED (recording no error) for shapes these kernels do not serve, so the
// caller falls back to the general kernels.
int attention_fwd_tc(lk_ptr out, lk_ptr lse, lk_ptr q, lk_ptr k, lk_ptr v, int64_t B, int64_t T_, int64_t Hq,
                     int64_t Hkv, int64_t D, float scale, int64_t window, int dt) {
  if (dt != LK_BF16 || ((q | k | v | out) & 15) != 0) return LK_ERR_UNSUPPORTED;
  if (D == 64) return launch_fwd<64>(out, lse, q, k, v, B, T_, Hq, Hkv, scale, window);
  if (D == 128) return launch_fwd<128>(out, lse, q, k, v, B, T_, Hq, Hkv, scale, window);
  return LK_ERR_UNSUPPORTED;
}

int attention_bwd_tc(lk_ptr dq, lk_ptr dk, lk_ptr dv, lk_ptr dout, lk_ptr lse, const float *dsum, lk_ptr q, lk_ptr k,
                     lk_ptr v, int64_t B, int64_t T_, int64_t Hq, int64_t Hkv, int64_t D, float scale, int64_t window,
                     int dt) {
  if (dt != LK_BF16 || ((q | k | v | dout | dq | dk | dv) & 15) != 0) return LK_ERR_UNSUPPORTED;
  if (D == 64) return launch_bwd<64>(dq, dk, dv, dout, lse, dsum, q, k, v, B, T_, Hq, Hkv, scale, window);
  if (D == 128) return launch_bwd<128>(dq, dk, dv, dout, lse, dsum, q, k, v, B, T_, Hq, Hkv, scale, window);
  return LK_ERR_UNSUPPORTED;
}

}  // namespace lk
