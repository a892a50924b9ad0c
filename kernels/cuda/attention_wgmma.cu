// CUDA backend: flash attention on Hopper's warpgroup products (wgmma, sm_90a) for bf16 with head
// dim 64 or 128. The structure is attention_tc.cu's (FlashAttention-2: online softmax in
// registers, a backward of two kernels without atomics, so gradients are deterministic), but each
// warpgroup of 4 warps owns 64 rows and multiplies straight from swizzled shared memory: one
// asynchronous instruction per 64 x N x 16 product instead of ldmatrix plus eight mma.sync. The
// probabilities (and dS) feed the next product from registers. One thread loads every tile with
// TMA bulk tensor copies (tma.cuh) into a ring whose slots the multiplying warps release through
// mbarriers, so they spend no instructions on copies and meet at no block-wide barrier.
//
// Launched only on sm_90 devices by a build that includes sm_90a code (see attention_fwd_wgmma);
// everything else keeps the mma.sync kernels.
#include <cudaTypedefs.h>  // PFN_cuTensorMapEncodeTiled

#include "tma.cuh"
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

// Each kernel overlaps the exponentials of tile t with the tensor cores: the products that need
// tile t - 1's probabilities (or dS) are issued together with tile t's score products and run
// while the softmax (or gradient) step of tile t executes. Tiles stream through a 3-stage ring:
// while tile t + 1 is staged, tile t - 1 is still being read. The first tile is peeled off and the
// last product follows the loop, so every wgmma is issued unconditionally: a wgmma under a
// data-dependent branch makes ptxas serialize all of them.
constexpr int STAGES = 3;

// A kernel's shape: NWG warpgroups of 64 rows each (queries, or keys for dK/dV), TILE rows in each
// streamed tile, and MINB blocks per SM (the register budget ptxas is held to).
template <int NWG_, int TILE_, int MINB_>
struct Shape {
  static constexpr int NWG = NWG_, ROWS = 64 * NWG_, TILE = TILE_, MINB = MINB_;
};

// Chosen by timing the combinations on an H200 (B8 H12 T2048 D64 and B4 H8 T2048 D128, causal,
// TMA-fed kernels): at head dim 64, more resident blocks hide the exponentials better than larger
// tiles do (forward 0.182 ms with 1 warpgroup x 3 blocks, 0.185 with 2 x 2, 0.193 with 128-key tiles).
template <int D>
struct Tiling;
template <>
struct Tiling<64> {
  using Fwd = Shape<1, 64, 3>;
  using Dq = Shape<1, 64, 3>;
  using Dkv = Shape<1, 64, 2>;
};
template <>
struct Tiling<128> {
  using Fwd = Shape<2, 128, 1>;
  using Dq = Shape<2, 64, 1>;
  using Dkv = Shape<2, 64, 1>;
};

// A bulk load must start on 16 bytes, so the dK/dV kernel loads a tile's lse and dsum from the
// multiple of 4 elements at or before its first query (LOAD elements) into 128-byte-aligned slots
// (SLOT elements) and skips the difference when it reads them. Their float2 reads then need an
// even difference: an even T (attention_bwd_wgmma checks).
template <int BQ>
struct Stats {
  static constexpr int STATS_LOAD = BQ + 4, STATS_SLOT = BQ + 32;
};

#ifdef LK_WGMMA_DEVICE
// The barriers of a STAGES-deep ring of streamed tiles that one thread fills with bulk tensor
// loads. Tile t is read by the products of iterations t and t + 1 (the product with the previous
// tile's probabilities or dS), so each warp releases it after iteration t + 1; tile t + STAGES
// then reuses its slot.
template <int NWARPS>
struct Ring {
  static constexpr int BARRIERS = 2 * STAGES + 1;  // STAGES full, STAGES empty, then the rows that stay
  uint64_t *full, *empty;

  __device__ __forceinline__ void init() const {
    for (int s = 0; s < STAGES; ++s) mbar_init(full + s, 1), mbar_init(empty + s, NWARPS);
  }
  // the issuing thread: tile t's slot, once tile t - STAGES has been released there, expecting
  // `bytes` of loads that complete on the returned barrier
  __device__ __forceinline__ uint64_t *claim(int t, uint32_t bytes) const {
    const int slot = t % STAGES;
    if (t >= STAGES) mbar_wait(empty + slot, (t / STAGES - 1) & 1);
    mbar_expect(full + slot, bytes);
    return full + slot;
  }
  __device__ __forceinline__ void wait(int t) const { mbar_wait(full + t % STAGES, (t / STAGES) & 1); }
  __device__ __forceinline__ void release(int t, int lane) const {
    __syncwarp();
    if (lane == 0) mbar_arrive(empty + t % STAGES);
  }
};

// The key/value tiles of the forward and dQ kernels: BC-row tiles over the keys from jlo of one
// kv head.
template <int D, int BC, int NWARPS>
struct KeyValueRing : Ring<NWARPS> {
  bf16 *base;
  const CUtensorMap *kmap, *vmap;
  int64_t b, kvh;
  int jlo;

  __device__ __forceinline__ bf16 *K(int t) const { return base + (t % STAGES) * 2 * BC * D; }
  __device__ __forceinline__ bf16 *V(int t) const { return K(t) + BC * D; }
  __device__ __forceinline__ void stage(int t) const {
    uint64_t *landed = this->claim(t, 2 * BC * D * sizeof(bf16));
    load_head_rows<D, BC>(K(t), kmap, b, kvh, jlo + t * BC, landed);
    load_head_rows<D, BC>(V(t), vmap, b, kvh, jlo + t * BC, landed);
  }
};

// The query tiles of the dK/dV kernel: Q, dO and the per-query lse and dsum of BQ queries from
// j0, head after head of the GQA group.
template <int D, int BQ, int NWARPS>
struct QueryRing : Ring<NWARPS> {
  static constexpr int STATS_LOAD = Stats<BQ>::STATS_LOAD, STATS_SLOT = Stats<BQ>::STATS_SLOT;
  bf16 *base;
  float *stats;  // STAGES x (lse, dsum) x STATS_SLOT
  const CUtensorMap *qmap, *omap, *lmap, *dmap;
  int64_t b, Hq, h0;
  int T_, j0, per_head;

  __device__ __forceinline__ int64_t head(int t) const { return h0 + t / per_head; }
  __device__ __forceinline__ int first_query(int t) const { return j0 + (t % per_head) * BQ; }
  __device__ __forceinline__ int first_stat(int t) const { return (int)((b * Hq + head(t)) * T_ + first_query(t)); }
  __device__ __forceinline__ bf16 *Q(int t) const { return base + (t % STAGES) * 2 * BQ * D; }
  __device__ __forceinline__ bf16 *O(int t) const { return Q(t) + BQ * D; }
  __device__ __forceinline__ float *slot_stats(int t) const { return stats + (t % STAGES) * 2 * STATS_SLOT; }
  // lse of the tile's queries; their dsum follows STATS_SLOT later
  __device__ __forceinline__ const float *L(int t) const { return slot_stats(t) + (first_stat(t) & 3); }
  __device__ __forceinline__ void stage(int t) const {
    uint64_t *landed = this->claim(t, 2 * BQ * D * sizeof(bf16) + 2 * STATS_LOAD * sizeof(float));
    load_head_rows<D, BQ>(Q(t), qmap, b, head(t), first_query(t), landed);
    load_head_rows<D, BQ>(O(t), omap, b, head(t), first_query(t), landed);
    load_span(slot_stats(t), lmap, first_stat(t) & ~3, landed);
    load_span(slot_stats(t) + STATS_SLOT, dmap, first_stat(t) & ~3, landed);
  }
};

// Block x of a kernel over BR-query blocks (the heaviest, latest blocks first), and the BC-key
// tiles its queries can see: from jlo, ntiles of them.
template <int BR, int BC>
__device__ __forceinline__ void query_block(const Span &sp, int &q0, int &jlo, int &ntiles) {
  q0 = (int)(gridDim.x - 1 - blockIdx.x) * BR;
  jlo = sp.first_key(q0) / BC * BC;
  ntiles = (min(sp.T - 1, q0 + BR - 1) - jlo) / BC + 1;
}

// Thread 0 sets up the barriers, then loads the query rows that stay (NQ tensors of BR rows into
// consecutive tiles from Qs) and the first two key/value tiles; every thread waits for the rows.
template <int D, int BR, int NQ, typename Tiles>
__device__ __forceinline__ void begin(const Tiles &kv, uint64_t *qbar, bf16 *Qs, const CUtensorMap *const (&maps)[NQ],
                                      int64_t b, int64_t h, int q0, int ntiles) {
  if (threadIdx.x == 0) {
    kv.init();
    mbar_init(qbar, 1);
    mbar_init_fence();
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    mbar_expect(qbar, NQ * BR * D * sizeof(bf16));
#pragma unroll
    for (int n = 0; n < NQ; ++n) load_head_rows<D, BR>(Qs + n * BR * D, maps[n], b, h, q0, qbar);
    kv.stage(0);
    if (ntiles > 1) kv.stage(1);
  }
  mbar_wait(qbar, 0);
}

// The loop every kernel runs over its streamed tiles (see the comment on STAGES): scores(t) issues
// tile t's score products, step(t) pins the landed scores and turns them into probabilities or
// gradients, products(t) issues the products that need tile t's step, and carry() turns the step's
// results into the next products' operands once every product in flight has landed. The caller
// waits for the last products.
template <typename Tiles, typename Scores, typename Step, typename Products, typename Carry>
__device__ __forceinline__ void stream_tiles(const Tiles &tiles, int ntiles, int lane, Scores scores, Step step,
                                             Products products, Carry carry) {
  tiles.wait(0);
  wgmma_fence();
  scores(0);
  wgmma_commit();
  wgmma_wait<0>();
  step(0);
  carry();
  for (int t = 1; t < ntiles; ++t) {
    if (threadIdx.x == 0 && t + 1 < ntiles) tiles.stage(t + 1);
    tiles.wait(t);
    wgmma_fence();
    scores(t);
    wgmma_commit();
    products(t - 1);
    wgmma_commit();
    wgmma_wait<1>();
    step(t);
    wgmma_wait<0>();
    tiles.release(t - 1, lane);
    carry();
  }
  wgmma_fence();
  products(ntiles - 1);
}
#endif  // LK_WGMMA_DEVICE

// The rows the forward and dQ kernels load: o is dO (the dQ kernel only).
struct HeadMaps {
  CUtensorMap q, o, k, v;
};

// ---- forward: warpgroups of 64 queries; key/value tiles stream ----

template <int D, typename S>
__global__ void __launch_bounds__(S::NWG * WG, S::MINB) attn_fwd_wg(bf16 *out, float *lse, const __grid_constant__ HeadMaps maps,
                                                               Span span, int64_t Hq, int64_t Hkv, float scale) {
#ifdef LK_WGMMA_DEVICE
  constexpr int BR = S::ROWS, BC = S::TILE;
  extern __shared__ unsigned char smem[];
  __shared__ uint64_t bars[Ring<S::NWG * 4>::BARRIERS];
  bf16 *Qs = aligned_tiles(smem);  // then the key/value ring
  const int tid = threadIdx.x, wg = tid / WG, warp = tid / 32 % 4, lane = tid % 32;
  const int64_t b = blockIdx.z, h = blockIdx.y, kvh = h / (Hq / Hkv);
  const Span sp = span.row(b);
  const int T_ = sp.T;
  int q0, jlo, ntiles;
  query_block<BR, BC>(sp, q0, jlo, ntiles);
  const KeyValueRing<D, BC, S::NWG * 4> kv{{bars, bars + STAGES}, Qs + BR * D, &maps.k, &maps.v, b, kvh, jlo};
  const float sl2 = scale * LOG2E;
  const int row0 = q0 + wg * 64, i0 = row0 + warp * 16 + lane / 4;  // lane rows i0 and i0 + 8
  float o[D / 8][4], m[2] = {-INFINITY, -INFINITY}, l[2] = {0.f, 0.f}, s[BC / 8][4], corr[2];
  auto softmax = [&](int t) {  // tiles wholly above a warp's rows come out as zero probabilities
    const int j0 = jlo + t * BC;
    fence_operand(s);
    if (sp.needs_mask(row0 + warp * 16, 16, j0, BC))
      online_softmax<BC, Masked>(s, m, l, corr, i0, j0, lane, sp, sl2);
    else
      online_softmax<BC, Unmasked>(s, m, l, corr, i0, j0, lane, sp, sl2);
  };

  const CUtensorMap *const rows[1] = {&maps.q};
  begin<D, BR>(kv, bars + 2 * STAGES, Qs, rows, b, h, q0, ntiles);
  zero(o);
  uint32_t p[BC / 16][4];  // probabilities of the tile before the current one
  stream_tiles(
      kv, ntiles, lane, [&](int t) { product_kmajor<D, BR, BC, BC>(s, Qs, wg * 64, kv.K(t)); },  // S = Q Kᵀ
      softmax, [&](int t) { product_nmajor<BC, D>(o, p, kv.V(t)); },                             // O += P V
      [&] {
        fence_operand(o);
        rescale<D>(o, corr);
        fragments<BC>(p, s);
      });
  finish(o);
  store_output<D>(out, lse, o, m, l, b, h, Hq, i0, T_, lane, scale);
#else
  __trap();  // never launched: attention_fwd_wgmma checks for sm_90a code
#endif
}

// ---- backward: dQ (warpgroups of 64 queries; key/value tiles stream) ----

template <int D, typename S>
__global__ void __launch_bounds__(S::NWG * WG, S::MINB) attn_bwd_dq_wg(bf16 *dq, const float *lse, const float *dsum,
                                                                  const __grid_constant__ HeadMaps maps, Span span,
                                                                  int64_t Hq, int64_t Hkv, float scale) {
#ifdef LK_WGMMA_DEVICE
  constexpr int BR = S::ROWS, BC = S::TILE;
  extern __shared__ unsigned char smem[];
  __shared__ uint64_t bars[Ring<S::NWG * 4>::BARRIERS];
  bf16 *Qs = aligned_tiles(smem), *Os = Qs + BR * D;  // then the key/value ring
  const int tid = threadIdx.x, wg = tid / WG, warp = tid / 32 % 4, lane = tid % 32;
  const int64_t b = blockIdx.z, h = blockIdx.y, kvh = h / (Hq / Hkv);
  const Span sp = span.row(b);
  const int T_ = sp.T;
  int q0, jlo, ntiles;
  query_block<BR, BC>(sp, q0, jlo, ntiles);
  const KeyValueRing<D, BC, S::NWG * 4> kv{{bars, bars + STAGES}, Os + BR * D, &maps.k, &maps.v, b, kvh, jlo};
  const float sl2 = scale * LOG2E;
  const int row0 = q0 + wg * 64, i0 = row0 + warp * 16 + lane / 4;
  float lse2[2], di[2], s[BC / 8][4], dp[BC / 8][4];
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int64_t i = min(i0 + r * 8, T_ - 1);
    lse2[r] = lse[(b * Hq + h) * T_ + i] * LOG2E;
    di[r] = dsum[(b * Hq + h) * T_ + i];
  }
  auto grads = [&](int t) {  // S = Q Kᵀ and dP = dO Vᵀ into dS
    const int j0 = jlo + t * BC;
    fence_operand(s);
    fence_operand(dp);
    if (sp.needs_mask(row0 + warp * 16, 16, j0, BC))
      score_grads<BC, Masked>(s, dp, lse2, di, i0, j0, lane, sp, sl2);
    else
      score_grads<BC, Unmasked>(s, dp, lse2, di, i0, j0, lane, sp, sl2);
  };
  auto scores = [&](int t) {
    product_kmajor<D, BR, BC, BC>(s, Qs, wg * 64, kv.K(t));   // S = Q Kᵀ
    product_kmajor<D, BR, BC, BC>(dp, Os, wg * 64, kv.V(t));  // dP = dO Vᵀ
  };

  const CUtensorMap *const rows[2] = {&maps.q, &maps.o};
  begin<D, BR>(kv, bars + 2 * STAGES, Qs, rows, b, h, q0, ntiles);
  float acc[D / 8][4];
  zero(acc);
  uint32_t ds[BC / 16][4];  // dS of the tile before the current one
  stream_tiles(
      kv, ntiles, lane, scores, grads, [&](int t) { product_nmajor<BC, D>(acc, ds, kv.K(t)); },  // dQ += dS K
      [&] { fragments<BC>(ds, s); });
  finish(acc);
  store_rows<D>(dq, acc, b, h, Hq, i0, T_, lane, scale);
#else
  __trap();
#endif
}

// ---- backward: dK, dV (warpgroups of 64 keys; query tiles of every head of the GQA group stream) ----

// The rows the dK/dV kernel loads: its keys and values, and per query tile Q, dO, lse and dsum.
struct KeyMaps {
  CUtensorMap k, v, q, o, lse, dsum;
};

template <int D, typename S>
__global__ void __launch_bounds__(S::NWG * WG, S::MINB) attn_bwd_dkv_wg(bf16 *dk, bf16 *dv,
                                                                   const __grid_constant__ KeyMaps maps, Span span,
                                                                   int64_t Hq, int64_t Hkv, float scale) {
#ifdef LK_WGMMA_DEVICE
  constexpr int BK = S::ROWS, BQ = S::TILE;
  extern __shared__ unsigned char smem[];
  __shared__ uint64_t bars[Ring<S::NWG * 4>::BARRIERS];
  bf16 *Ks = aligned_tiles(smem), *Vs = Ks + BK * D, *QO = Vs + BK * D;  // then STAGES x (Q, dO)
  float *stats = reinterpret_cast<float *>(QO + STAGES * 2 * BQ * D);    // then the lse/dsum slots
  const int tid = threadIdx.x, wg = tid / WG, warp = tid / 32 % 4, lane = tid % 32;
  const int64_t b = blockIdx.z, g = blockIdx.y, group = Hq / Hkv;
  const Span sp = span.row(b);
  const int T_ = sp.T;
  const int j0 = (int)blockIdx.x * BK;
  const int ihi = sp.last_query(j0 + BK - 1);
  const int per_head = (ihi - j0) / BQ + 1, ntiles = per_head * (int)group;
  const QueryRing<D, BQ, S::NWG * 4> qs{{bars, bars + STAGES}, QO, stats, &maps.q, &maps.o, &maps.lse, &maps.dsum,
                                        b, Hq, g * group, T_, j0, per_head};
  const float sl2 = scale * LOG2E;
  const int key0 = j0 + wg * 64, jr = key0 + warp * 16 + lane / 4;  // this lane's keys: jr and jr + 8
  float s[BQ / 8][4], dp[BQ / 8][4];
  auto scores = [&](int t) {
    product_kmajor<D, BK, BQ, BQ>(s, Ks, wg * 64, qs.Q(t));   // Sᵀ = K Qᵀ
    product_kmajor<D, BK, BQ, BQ>(dp, Vs, wg * 64, qs.O(t));  // dPᵀ = V dOᵀ
  };
  auto grads = [&](int t) {  // Pᵀ into s, dSᵀ into dp; tiles wholly before a warp's keys give zeros
    const int i0 = qs.first_query(t);
    fence_operand(s);
    fence_operand(dp);
    if (sp.needs_mask(i0, BQ, key0 + warp * 16, 16))
      transposed_grads<BQ, Masked>(s, dp, qs.L(t), qs.L(t) + qs.STATS_SLOT, i0, jr, lane, sp, sl2);
    else
      transposed_grads<BQ, Unmasked>(s, dp, qs.L(t), qs.L(t) + qs.STATS_SLOT, i0, jr, lane, sp, sl2);
  };

  const CUtensorMap *const rows[2] = {&maps.k, &maps.v};
  begin<D, BK>(qs, bars + 2 * STAGES, Ks, rows, b, g, j0, ntiles);
  float dka[D / 8][4], dva[D / 8][4];
  zero(dka);
  zero(dva);
  uint32_t pa[BQ / 16][4], da[BQ / 16][4];  // Pᵀ and dSᵀ of the tile before the current one
  auto accumulate = [&](int t) {
    product_nmajor<BQ, D>(dva, pa, qs.O(t));  // dV += Pᵀ dO
    product_nmajor<BQ, D>(dka, da, qs.Q(t));  // dK += dSᵀ Q
  };
  stream_tiles(qs, ntiles, lane, scores, grads, accumulate, [&] {
    fragments<BQ>(pa, s);
    fragments<BQ>(da, dp);
  });
  finish(dka, dva);
  store_rows<D>(dk, dka, b, g, Hkv, jr, T_, lane, scale);
  store_rows<D>(dv, dva, b, g, Hkv, jr, T_, lane, 1.f);
#else
  __trap();
#endif
}

template <int D, typename S>
constexpr size_t fwd_bytes() {  // Q + STAGES x (K, V)
  return ALIGN_SLACK + (size_t)(S::ROWS + 2 * STAGES * S::TILE) * D * sizeof(bf16);
}
template <int D, typename S>
constexpr size_t dq_bytes() {  // Q, dO + STAGES x (K, V)
  return ALIGN_SLACK + (size_t)(2 * S::ROWS + 2 * STAGES * S::TILE) * D * sizeof(bf16);
}
template <int D, typename S>
constexpr size_t dkv_bytes() {  // K, V + STAGES x (Q, dO, lse, dsum)
  return dq_bytes<D, S>() + 2 * STAGES * Stats<S::TILE>::STATS_SLOT * sizeof(float);
}

using EncodeTiled = PFN_cuTensorMapEncodeTiled_v12000;

// the driver's encoder, found at run time so the library needs no link against libcuda
EncodeTiled tensor_map_encoder() {
  static const EncodeTiled fn = [] {
    void *p = nullptr;
    cudaDriverEntryPointQueryResult found{};
#if CUDART_VERSION >= 12050
    const cudaError_t rc = cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &p, 12000, cudaEnableDefault, &found);
#else
    const cudaError_t rc = cudaGetDriverEntryPoint("cuTensorMapEncodeTiled", &p, cudaEnableDefault, &found);
#endif
    return rc == cudaSuccess && found == cudaDriverEntryPointSuccess ? reinterpret_cast<EncodeTiled>(p) : nullptr;
  }();
  return fn;
}

// Maps for the query rows (BR) and key/value tiles (BC) of the forward (dout = 0) or dQ kernel.
bool head_maps(HeadMaps &maps, lk_ptr q, lk_ptr dout, lk_ptr k, lk_ptr v, int64_t B, int64_t T_, int64_t Hq,
               int64_t Hkv, int64_t D, int BR, int BC) {
  return head_rows_map(&maps.q, q, B, T_, Hq, D, BR) && (!dout || head_rows_map(&maps.o, dout, B, T_, Hq, D, BR)) &&
         head_rows_map(&maps.k, k, B, T_, Hkv, D, BC) && head_rows_map(&maps.v, v, B, T_, Hkv, D, BC);
}

template <int D>
int launch_fwd(lk_ptr out, lk_ptr lse, lk_ptr q, lk_ptr k, lk_ptr v, int64_t B, int64_t T_, int64_t Hq, int64_t Hkv,
               float scale, int64_t window, lk_ptr seq_start, lk_ptr seq_end) {
  using S = typename Tiling<D>::Fwd;
  constexpr size_t bytes = fwd_bytes<D, S>();
  static const int rc = configure(attn_fwd_wg<D, S>, bytes, "attention_fwd");
  if (rc != LK_OK) return rc;
  HeadMaps maps;
  if (!head_maps(maps, q, 0, k, v, B, T_, Hq, Hkv, D, S::ROWS, S::TILE)) return LK_ERR_UNSUPPORTED;
  const dim3 grid((unsigned)((T_ + S::ROWS - 1) / S::ROWS), (unsigned)Hq, (unsigned)B);
  attn_fwd_wg<D, S><<<grid, S::NWG * WG, bytes, g_stream>>>(at<bf16>(out), at<float>(lse), maps, span_of(T_, window, seq_start, seq_end), Hq, Hkv,
                                                            scale);
  return launch_check("attention_fwd");
}

template <int D>
int launch_bwd(lk_ptr dq, lk_ptr dk, lk_ptr dv, lk_ptr dout, lk_ptr lse, const float *dsum, lk_ptr q, lk_ptr k, lk_ptr v,
               int64_t B, int64_t T_, int64_t Hq, int64_t Hkv, float scale, int64_t window, lk_ptr seq_start, lk_ptr seq_end) {
  using Q = typename Tiling<D>::Dq;
  using KV = typename Tiling<D>::Dkv;
  static const int rc1 = configure(attn_bwd_dq_wg<D, Q>, dq_bytes<D, Q>(), "attention_bwd");
  static const int rc2 = configure(attn_bwd_dkv_wg<D, KV>, dkv_bytes<D, KV>(), "attention_bwd");
  if (rc1 != LK_OK) return rc1;
  if (rc2 != LK_OK) return rc2;
  HeadMaps maps;
  KeyMaps key_maps;
  const int64_t n = B * Hq * T_;
  if (!head_maps(maps, q, dout, k, v, B, T_, Hq, Hkv, D, Q::ROWS, Q::TILE) ||
      !head_rows_map(&key_maps.k, k, B, T_, Hkv, D, KV::ROWS) || !head_rows_map(&key_maps.v, v, B, T_, Hkv, D, KV::ROWS) ||
      !head_rows_map(&key_maps.q, q, B, T_, Hq, D, KV::TILE) || !head_rows_map(&key_maps.o, dout, B, T_, Hq, D, KV::TILE) ||
      !span_map(&key_maps.lse, at<float>(lse), n, Stats<KV::TILE>::STATS_LOAD) ||
      !span_map(&key_maps.dsum, dsum, n, Stats<KV::TILE>::STATS_LOAD))
    return LK_ERR_UNSUPPORTED;
  const dim3 dkv_grid((unsigned)((T_ + KV::ROWS - 1) / KV::ROWS), (unsigned)Hkv, (unsigned)B);
  attn_bwd_dkv_wg<D, KV><<<dkv_grid, KV::NWG * WG, dkv_bytes<D, KV>(), g_stream>>>(
      at<bf16>(dk), at<bf16>(dv), key_maps, span_of(T_, window, seq_start, seq_end), Hq, Hkv, scale);
  const dim3 dq_grid((unsigned)((T_ + Q::ROWS - 1) / Q::ROWS), (unsigned)Hq, (unsigned)B);
  attn_bwd_dq_wg<D, Q><<<dq_grid, Q::NWG * WG, dq_bytes<D, Q>(), g_stream>>>(at<bf16>(dq), at<float>(lse), dsum, maps,
                                                                            span_of(T_, window, seq_start, seq_end), Hq, Hkv, scale);
  return launch_check("attention_bwd");
}

// sm_90a code exists in this build (LK_HAVE_SM90A, set by kernels/build.mjs), the device is sm_90
// and LOOM_ATTENTION_MMA does not ask for the mma.sync kernels
bool wgmma_usable(int dt, lk_ptr aligned, int64_t D) {
#ifdef LK_HAVE_SM90A
  return g_cc_major == 9 && dt == LK_BF16 && (aligned & 15) == 0 && (D == 64 || D == 128) &&
         !getenv("LOOM_ATTENTION_MMA");
#else
  (void)dt, (void)aligned, (void)D;
  return false;
#endif
}

}  // namespace

namespace lk {

int attention_fwd_wgmma(lk_ptr out, lk_ptr lse, lk_ptr q, lk_ptr k, lk_ptr v, int64_t B, int64_t T_, int64_t Hq,
                        int64_t Hkv, int64_t D, float scale, int64_t window, lk_ptr seq_start, lk_ptr seq_end, int dt) {
  if (!wgmma_usable(dt, q | k | v | out, D)) return LK_ERR_UNSUPPORTED;
  return D == 64 ? launch_fwd<64>(out, lse, q, k, v, B, T_, Hq, Hkv, scale, window, seq_start, seq_end)
                 : launch_fwd<128>(out, lse, q, k, v, B, T_, Hq, Hkv, scale, window, seq_start, seq_end);
}

int attention_bwd_wgmma(lk_ptr dq, lk_ptr dk, lk_ptr dv, lk_ptr dout, lk_ptr lse, const float *dsum, lk_ptr q,
                        lk_ptr k, lk_ptr v, int64_t B, int64_t T_, int64_t Hq, int64_t Hkv, int64_t D, float scale,
                        int64_t window, lk_ptr seq_start, lk_ptr seq_end, int dt) {
  if (!wgmma_usable(dt, q | k | v | dout | dq | dk | dv, D) || T_ % 2) return LK_ERR_UNSUPPORTED;  // see Stats
  return D == 64 ? launch_bwd<64>(dq, dk, dv, dout, lse, dsum, q, k, v, B, T_, Hq, Hkv, scale, window, seq_start, seq_end)
                 : launch_bwd<128>(dq, dk, dv, dout, lse, dsum, q, k, v, B, T_, Hq, Hkv, scale, window, seq_start, seq_end);
}

}  // namespace lk

namespace lk {
namespace attn {

bool head_rows_map(CUtensorMap *map, lk_ptr x, int64_t B, int64_t T_, int64_t H, int64_t D, int rows) {
  const EncodeTiled encode = tensor_map_encoder();
  if (!encode) return false;
  const cuuint64_t dims[4] = {(cuuint64_t)D, (cuuint64_t)H, (cuuint64_t)T_, (cuuint64_t)B};
  const cuuint64_t strides[3] = {(cuuint64_t)D * sizeof(bf16), (cuuint64_t)(H * D) * sizeof(bf16),
                                 (cuuint64_t)(T_ * H * D) * sizeof(bf16)};  // bytes, dims 1..3
  const cuuint32_t box[4] = {64, 1, (cuuint32_t)rows, 1}, unit[4] = {1, 1, 1, 1};
  return encode(map, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 4, at<void>(x), dims, strides, box, unit,
                CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) == CUDA_SUCCESS;
}

bool span_map(CUtensorMap *map, const float *x, int64_t n, int span) {
  const EncodeTiled encode = tensor_map_encoder();
  if (!encode) return false;
  const cuuint64_t dims[1] = {(cuuint64_t)n}, no_strides[1] = {0};
  const cuuint32_t box[1] = {(cuuint32_t)span}, unit[1] = {1};
  return encode(map, CU_TENSOR_MAP_DATA_TYPE_FLOAT32, 1, const_cast<float *>(x), dims, no_strides, box, unit,
                CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_NONE, CU_TENSOR_MAP_L2_PROMOTION_NONE,
                CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) == CUDA_SUCCESS;
}

}  // namespace attn
}  // namespace lk
