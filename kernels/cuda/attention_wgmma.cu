// CUDA backend: flash attention on Hopper's warpgroup products (wgmma, sm_90a) for bf16 with head
// dim 64 or 128. The structure is attention_tc.cu's (FlashAttention-2: online softmax in
// registers, a backward of two kernels without atomics, so gradients are deterministic), but each
// warpgroup of 4 warps owns 64 rows and multiplies straight from swizzled shared memory: one
// instruction per 64 x N x 16 product instead of ldmatrix plus eight mma.sync, which is what bound
// the mma.sync kernels on sm_90. The probabilities (and dS) feed the next product from registers.
//
// Launched only on sm_90 devices by a build that includes sm_90a code (see attention_fwd_wgmma);
// everything else keeps the mma.sync kernels.
#include "wgmma.cuh"

using namespace lk;
using namespace lk::attn;

namespace {

constexpr int WG = 128;  // threads in a warpgroup

// The tiles need 1024-byte alignment (the swizzle is computed from address bits); dynamic shared
// memory only promises 16, so kernels ask for 1 KiB more and start at the next boundary.
constexpr size_t ALIGN_SLACK = 1024;

#ifdef LK_WGMMA_DEVICE
__device__ __forceinline__ bf16 *aligned_tiles(unsigned char *raw) {
  return reinterpret_cast<bf16 *>(raw + ((1024 - (smem_addr(raw) & 1023)) & 1023));
}

// cp.async writes through the generic proxy and wgmma reads through the async proxy: each thread
// orders its own copies before the barrier that publishes the tile.
__device__ __forceinline__ void publish_tiles() {
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
  __syncthreads();
}

template <int N>
__device__ __forceinline__ void zero(float (&d)[N][4]) {
#pragma unroll
  for (int n = 0; n < N; ++n) d[n][0] = d[n][1] = d[n][2] = d[n][3] = 0.f;
}

// the A fragments (bf16) of a 64 x N accumulator, 16 columns each
template <int N>
__device__ __forceinline__ void fragments(uint32_t (&a)[N / 16][4], const float (&d)[N / 8][4]) {
#pragma unroll
  for (int kt = 0; kt < N / 16; ++kt) as_a(a[kt], d[2 * kt], d[2 * kt + 1]);
}

// d = (64 rows of A from row0) Bᵀ over D, both K-major tiles (A: AROWS rows, B: BROWS rows)
template <int D, int AROWS, int BROWS, int N>
__device__ __forceinline__ void product_kmajor(float (&d)[N / 8][4], const bf16 *A, int row0, const bf16 *B) {
#pragma unroll
  for (int kk = 0; kk < D / 16; ++kk) wgmma_ss(d, k_major<AROWS>(A, row0, kk), k_major<BROWS>(B, 0, kk), kk > 0);
}

// d += P B where P (64 x K) is in register fragments and B a K-row tile, n-major
template <int K, int D>
__device__ __forceinline__ void product_nmajor(float (&d)[D / 8][4], const uint32_t (&p)[K / 16][4], const bf16 *B) {
#pragma unroll
  for (int kt = 0; kt < K / 16; ++kt) wgmma_rs(d, p[kt], n_major<K>(B, kt));
}

// Waits for the products in flight and pins their accumulators after the wait.
template <int N1, int N2>
__device__ __forceinline__ void finish(float (&d1)[N1][4], float (&d2)[N2][4]) {
  wgmma_commit();
  wgmma_wait<0>();
  fence_operand(d1);
  fence_operand(d2);
}
template <int N1>
__device__ __forceinline__ void finish(float (&d1)[N1][4]) {
  wgmma_commit();
  wgmma_wait<0>();
  fence_operand(d1);
}
#endif  // LK_WGMMA_DEVICE

// ---- forward: NWG warpgroups of 64 queries; key/value tiles of BC rows stream, double-buffered ----

template <int D, int NWG, int BC>
__global__ void __launch_bounds__(NWG * WG, 1) attn_fwd_wg(bf16 *out, float *lse, const bf16 *q, const bf16 *k,
                                                            const bf16 *v, int T_, int64_t Hq, int64_t Hkv, float scale,
                                                            int window) {
#ifdef LK_WGMMA_DEVICE
  constexpr int BR = 64 * NWG, THREADS = NWG * WG, KE = BC * D;
  extern __shared__ unsigned char smem[];
  bf16 *Qs = aligned_tiles(smem), *KV = Qs + BR * D;  // then 2 stages of (K, V)
  const int tid = threadIdx.x, wg = tid / WG, warp = tid / 32 % 4, lane = tid % 32;
  const int64_t b = blockIdx.z, h = blockIdx.y, kvh = h / (Hq / Hkv);
  const int q0 = (int)(gridDim.x - 1 - blockIdx.x) * BR;  // heaviest (latest) query tiles first
  const int jlo = window > 0 ? max(0, q0 - window + 1) / BC * BC : 0;
  const int ntiles = (min(T_ - 1, q0 + BR - 1) - jlo) / BC + 1;
  const float sl2 = scale * LOG2E;

  stage_swizzled<D, BR, THREADS>(Qs, q, b, q0, T_, Hq, h, tid);
  stage_swizzled<D, BC, THREADS>(KV, k, b, jlo, T_, Hkv, kvh, tid);
  stage_swizzled<D, BC, THREADS>(KV + KE, v, b, jlo, T_, Hkv, kvh, tid);
  cp_commit();

  const int row0 = q0 + wg * 64, i0 = row0 + warp * 16 + lane / 4;  // lane rows i0 and i0 + 8
  float o[D / 8][4], m[2] = {-INFINITY, -INFINITY}, l[2] = {0.f, 0.f};
  zero(o);

  for (int t = 0; t < ntiles; ++t) {
    const int j0 = jlo + t * BC;
    const bf16 *Ks = KV + (t & 1) * 2 * KE, *Vs = Ks + KE;
    if (t + 1 < ntiles) {
      bf16 *next = KV + ((t + 1) & 1) * 2 * KE;
      stage_swizzled<D, BC, THREADS>(next, k, b, j0 + BC, T_, Hkv, kvh, tid);
      stage_swizzled<D, BC, THREADS>(next + KE, v, b, j0 + BC, T_, Hkv, kvh, tid);
      cp_commit();
      cp_wait<1>();
    } else {
      cp_wait<0>();
    }
    publish_tiles();
    if (j0 <= row0 + 63) {  // the diagonal tile can lie wholly above this warpgroup's rows
      float s[BC / 8][4];
      wgmma_fence();
      product_kmajor<D, BR, BC, BC>(s, Qs, wg * 64, Ks);  // S = Q Kᵀ
      finish(s);
      if (needs_mask(row0 + warp * 16, 16, j0, BC, T_, window))
        softmax_step<BC, D, Masked>(s, m, l, o, i0, j0, lane, T_, window, sl2);
      else
        softmax_step<BC, D, Unmasked>(s, m, l, o, i0, j0, lane, T_, window, sl2);
      uint32_t p[BC / 16][4];
      fragments<BC>(p, s);
      wgmma_fence();
      fence_operand(o);
      product_nmajor<BC, D>(o, p, Vs);  // O += P V
      finish(o);
    }
    __syncthreads();  // this stage is refilled two tiles from now
  }
  store_output<D>(out, lse, o, m, l, b, h, Hq, i0, T_, lane, scale);
#else
  __trap();  // never launched: attention_fwd_wgmma checks for sm_90a code
#endif
}

// ---- backward: dQ (warpgroups of 64 queries; key/value tiles stream) ----

template <int D, int NWG, int BC>
__global__ void __launch_bounds__(NWG * WG, 1) attn_bwd_dq_wg(bf16 *dq, const bf16 *dout, const float *lse,
                                                               const float *dsum, const bf16 *q, const bf16 *k,
                                                               const bf16 *v, int T_, int64_t Hq, int64_t Hkv,
                                                               float scale, int window) {
#ifdef LK_WGMMA_DEVICE
  constexpr int BR = 64 * NWG, THREADS = NWG * WG, KE = BC * D;
  extern __shared__ unsigned char smem[];
  bf16 *Qs = aligned_tiles(smem), *Os = Qs + BR * D, *KV = Os + BR * D;  // then 2 stages of (K, V)
  const int tid = threadIdx.x, wg = tid / WG, warp = tid / 32 % 4, lane = tid % 32;
  const int64_t b = blockIdx.z, h = blockIdx.y, kvh = h / (Hq / Hkv);
  const int q0 = (int)(gridDim.x - 1 - blockIdx.x) * BR;
  const int jlo = window > 0 ? max(0, q0 - window + 1) / BC * BC : 0;
  const int ntiles = (min(T_ - 1, q0 + BR - 1) - jlo) / BC + 1;
  const float sl2 = scale * LOG2E;

  stage_swizzled<D, BR, THREADS>(Qs, q, b, q0, T_, Hq, h, tid);
  stage_swizzled<D, BR, THREADS>(Os, dout, b, q0, T_, Hq, h, tid);
  stage_swizzled<D, BC, THREADS>(KV, k, b, jlo, T_, Hkv, kvh, tid);
  stage_swizzled<D, BC, THREADS>(KV + KE, v, b, jlo, T_, Hkv, kvh, tid);
  cp_commit();

  const int row0 = q0 + wg * 64, i0 = row0 + warp * 16 + lane / 4;
  float lse2[2], di[2];
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int64_t i = min(i0 + r * 8, T_ - 1);
    lse2[r] = lse[(b * Hq + h) * T_ + i] * LOG2E;
    di[r] = dsum[(b * Hq + h) * T_ + i];
  }
  float acc[D / 8][4];
  zero(acc);

  for (int t = 0; t < ntiles; ++t) {
    const int j0 = jlo + t * BC;
    const bf16 *Ks = KV + (t & 1) * 2 * KE, *Vs = Ks + KE;
    if (t + 1 < ntiles) {
      bf16 *next = KV + ((t + 1) & 1) * 2 * KE;
      stage_swizzled<D, BC, THREADS>(next, k, b, j0 + BC, T_, Hkv, kvh, tid);
      stage_swizzled<D, BC, THREADS>(next + KE, v, b, j0 + BC, T_, Hkv, kvh, tid);
      cp_commit();
      cp_wait<1>();
    } else {
      cp_wait<0>();
    }
    publish_tiles();
    if (j0 <= row0 + 63) {
      float s[BC / 8][4], dp[BC / 8][4];
      wgmma_fence();
      product_kmajor<D, BR, BC, BC>(s, Qs, wg * 64, Ks);   // S = Q Kᵀ
      product_kmajor<D, BR, BC, BC>(dp, Os, wg * 64, Vs);  // dP = dO Vᵀ
      finish(s, dp);
      if (needs_mask(row0 + warp * 16, 16, j0, BC, T_, window))
        score_grads<BC, Masked>(s, dp, lse2, di, i0, j0, lane, T_, window, sl2);
      else
        score_grads<BC, Unmasked>(s, dp, lse2, di, i0, j0, lane, T_, window, sl2);
      uint32_t ds[BC / 16][4];
      fragments<BC>(ds, s);
      wgmma_fence();
      fence_operand(acc);
      product_nmajor<BC, D>(acc, ds, Ks);  // dQ += dS K
      finish(acc);
    }
    __syncthreads();
  }
  store_rows<D>(dq, acc, b, h, Hq, i0, T_, lane, scale);
#else
  __trap();
#endif
}

// ---- backward: dK, dV (warpgroups of 64 keys; query tiles of every head of the GQA group stream) ----

template <int D, int NWG, int BQ>
__global__ void __launch_bounds__(NWG * WG, 1) attn_bwd_dkv_wg(bf16 *dk, bf16 *dv, const bf16 *dout, const float *lse,
                                                                const float *dsum, const bf16 *q, const bf16 *k,
                                                                const bf16 *v, int T_, int64_t Hq, int64_t Hkv,
                                                                float scale, int window) {
#ifdef LK_WGMMA_DEVICE
  constexpr int BK = 64 * NWG, THREADS = NWG * WG, QE = BQ * D;
  extern __shared__ unsigned char smem[];
  bf16 *Ks = aligned_tiles(smem), *Vs = Ks + BK * D, *QO = Vs + BK * D;  // then 2 stages of (Q, dO)
  float *LD2 = reinterpret_cast<float *>(QO + 4 * QE);                       // 2 stages of (lse2, dsum) x BQ
  const int tid = threadIdx.x, wg = tid / WG, warp = tid / 32 % 4, lane = tid % 32;
  const int64_t b = blockIdx.z, g = blockIdx.y, group = Hq / Hkv;
  const int j0 = (int)blockIdx.x * BK;
  const int ihi = window > 0 ? min(T_ - 1, j0 + BK - 1 + window - 1) : T_ - 1;
  const int per_head = (ihi - j0) / BQ + 1, ntiles = per_head * (int)group;
  const float sl2 = scale * LOG2E;

  auto issue = [&](int t) {  // stage query tile t (head-major) into buffer t & 1
    const int64_t h = g * group + t / per_head;
    const int i0 = j0 + (t % per_head) * BQ;
    bf16 *dst = QO + (t & 1) * 2 * QE;
    stage_swizzled<D, BQ, THREADS>(dst, q, b, i0, T_, Hq, h, tid);
    stage_swizzled<D, BQ, THREADS>(dst + QE, dout, b, i0, T_, Hq, h, tid);
    float *ld = LD2 + (t & 1) * 2 * BQ;
    if (tid < BQ) {
      const int64_t i = min(i0 + tid, T_ - 1);
      ld[tid] = lse[(b * Hq + h) * T_ + i] * LOG2E;
      ld[BQ + tid] = dsum[(b * Hq + h) * T_ + i];
    }
  };
  stage_swizzled<D, BK, THREADS>(Ks, k, b, j0, T_, Hkv, g, tid);
  stage_swizzled<D, BK, THREADS>(Vs, v, b, j0, T_, Hkv, g, tid);
  issue(0);
  cp_commit();

  const int key0 = j0 + wg * 64, jr = key0 + warp * 16 + lane / 4;  // this lane's keys: jr and jr + 8
  float dka[D / 8][4], dva[D / 8][4];
  zero(dka);
  zero(dva);

  for (int t = 0; t < ntiles; ++t) {
    const int i0 = j0 + (t % per_head) * BQ;
    const bf16 *Qs = QO + (t & 1) * 2 * QE, *Os = Qs + QE;
    const float *Lr = LD2 + (t & 1) * 2 * BQ, *Dr = Lr + BQ;
    if (t + 1 < ntiles) {
      issue(t + 1);
      cp_commit();
      cp_wait<1>();
    } else {
      cp_wait<0>();
    }
    publish_tiles();
    if (i0 + BQ - 1 >= key0) {  // the first query tile can lie wholly before this warpgroup's keys
      float s[BQ / 8][4], dp[BQ / 8][4];
      wgmma_fence();
      product_kmajor<D, BK, BQ, BQ>(s, Ks, wg * 64, Qs);   // Sᵀ = K Qᵀ
      product_kmajor<D, BK, BQ, BQ>(dp, Vs, wg * 64, Os);  // dPᵀ = V dOᵀ
      finish(s, dp);
      if (needs_mask(i0, BQ, key0 + warp * 16, 16, T_, window))
        transposed_grads<BQ, Masked>(s, dp, Lr, Dr, i0, jr, lane, T_, window, sl2);
      else
        transposed_grads<BQ, Unmasked>(s, dp, Lr, Dr, i0, jr, lane, T_, window, sl2);
      uint32_t pa[BQ / 16][4], da[BQ / 16][4];
      fragments<BQ>(pa, s);
      fragments<BQ>(da, dp);
      wgmma_fence();
      fence_operand(dva);
      fence_operand(dka);
      product_nmajor<BQ, D>(dva, pa, Os);  // dV += Pᵀ dO
      product_nmajor<BQ, D>(dka, da, Qs);  // dK += dSᵀ Q
      finish(dva, dka);
    }
    __syncthreads();
  }
  store_rows<D>(dk, dka, b, g, Hkv, jr, T_, lane, scale);
  store_rows<D>(dv, dva, b, g, Hkv, jr, T_, lane, 1.f);
#else
  __trap();
#endif
}

// Fwd: 2 warpgroups (128 queries) against 128-key tiles; backward: 2 warpgroups against 64-row tiles.
constexpr int NWG = 2, FWD_BC = 128, BWD_TILE = 64;

template <int D>
int launch_fwd(lk_ptr out, lk_ptr lse, lk_ptr q, lk_ptr k, lk_ptr v, int64_t B, int64_t T_, int64_t Hq, int64_t Hkv,
               float scale, int64_t window) {
  constexpr int BR = 64 * NWG;
  const size_t bytes = ALIGN_SLACK + (size_t)(BR + 4 * FWD_BC) * D * sizeof(bf16);  // Q + 2 x (K, V)
  static const int rc = configure(attn_fwd_wg<D, NWG, FWD_BC>, bytes, "attention_fwd");
  if (rc != LK_OK) return rc;
  const dim3 grid((unsigned)((T_ + BR - 1) / BR), (unsigned)Hq, (unsigned)B);
  attn_fwd_wg<D, NWG, FWD_BC><<<grid, NWG * WG, bytes, g_stream>>>(
      at<bf16>(out), at<float>(lse), at<bf16>(q), at<bf16>(k), at<bf16>(v), (int)T_, Hq, Hkv, scale,
      window_of(T_, window));
  return launch_check("attention_fwd");
}

template <int D>
int launch_bwd(lk_ptr dq, lk_ptr dk, lk_ptr dv, lk_ptr dout, lk_ptr lse, const float *dsum, lk_ptr q, lk_ptr k, lk_ptr v,
               int64_t B, int64_t T_, int64_t Hq, int64_t Hkv, float scale, int64_t window) {
  constexpr int ROWS = 64 * NWG;
  // Q, dO + 2 x (K, V); K, V + 2 x (Q, dO, lse, dsum)
  const size_t dq_bytes = ALIGN_SLACK + (size_t)(2 * ROWS + 4 * BWD_TILE) * D * sizeof(bf16);
  const size_t dkv_bytes = dq_bytes + 4 * BWD_TILE * sizeof(float);
  static const int rc1 = configure(attn_bwd_dq_wg<D, NWG, BWD_TILE>, dq_bytes, "attention_bwd");
  static const int rc2 = configure(attn_bwd_dkv_wg<D, NWG, BWD_TILE>, dkv_bytes, "attention_bwd");
  if (rc1 != LK_OK) return rc1;
  if (rc2 != LK_OK) return rc2;
  const unsigned blocks = (unsigned)((T_ + ROWS - 1) / ROWS);
  attn_bwd_dkv_wg<D, NWG, BWD_TILE><<<dim3(blocks, (unsigned)Hkv, (unsigned)B), NWG * WG, dkv_bytes, g_stream>>>(
      at<bf16>(dk), at<bf16>(dv), at<bf16>(dout), at<float>(lse), dsum, at<bf16>(q), at<bf16>(k), at<bf16>(v), (int)T_,
      Hq, Hkv, scale, window_of(T_, window));
  attn_bwd_dq_wg<D, NWG, BWD_TILE><<<dim3(blocks, (unsigned)Hq, (unsigned)B), NWG * WG, dq_bytes, g_stream>>>(
      at<bf16>(dq), at<bf16>(dout), at<float>(lse), dsum, at<bf16>(q), at<bf16>(k), at<bf16>(v), (int)T_, Hq, Hkv,
      scale, window_of(T_, window));
  return launch_check("attention_bwd");
}

// sm_90a code exists in this build (LK_HAVE_SM90A, set by kernels/build.mjs) and the device is sm_90
bool wgmma_usable(int dt, lk_ptr aligned, int64_t D) {
#ifdef LK_HAVE_SM90A
  return g_cc_major == 9 && dt == LK_BF16 && (aligned & 15) == 0 && (D == 64 || D == 128);
#else
  (void)dt, (void)aligned, (void)D;
  return false;
#endif
}

}  // namespace

namespace lk {

int attention_fwd_wgmma(lk_ptr out, lk_ptr lse, lk_ptr q, lk_ptr k, lk_ptr v, int64_t B, int64_t T_, int64_t Hq,
                        int64_t Hkv, int64_t D, float scale, int64_t window, int dt) {
  if (!wgmma_usable(dt, q | k | v | out, D)) return LK_ERR_UNSUPPORTED;
  return D == 64 ? launch_fwd<64>(out, lse, q, k, v, B, T_, Hq, Hkv, scale, window)
                 : launch_fwd<128>(out, lse, q, k, v, B, T_, Hq, Hkv, scale, window);
}

int attention_bwd_wgmma(lk_ptr dq, lk_ptr dk, lk_ptr dv, lk_ptr dout, lk_ptr lse, const float *dsum, lk_ptr q,
                        lk_ptr k, lk_ptr v, int64_t B, int64_t T_, int64_t Hq, int64_t Hkv, int64_t D, float scale,
                        int64_t window, int dt) {
  if (!wgmma_usable(dt, q | k | v | dout | dq | dk | dv, D)) return LK_ERR_UNSUPPORTED;
  return D == 64 ? launch_bwd<64>(dq, dk, dv, dout, lse, dsum, q, k, v, B, T_, Hq, Hkv, scale, window)
                 : launch_bwd<128>(dq, dk, dv, dout, lse, dsum, q, k, v, B, T_, Hq, Hkv, scale, window);
}

}  // namespace lk
