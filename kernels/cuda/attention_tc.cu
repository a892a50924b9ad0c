// CUDA backend: tensor-core flash attention (FlashAttention-2 layout) for bf16 with head dim 64
// or 128 — the training shapes. Other dtypes and head dims use attention.cu's kernels.
//
// Each block has 4 warps; a warp owns 16 rows (queries, or keys in the dK/dV kernel; 32 queries in
// the head-dim-64 forward) and issues mma.sync m16n8k16 (bf16 in, fp32 accumulate) with its
// scores, probabilities and outputs held in registers: the accumulator layout of a score tile is reused directly as the A operand of
// the next product, as FlashAttention-2 does. K/V (or Q/dO) tiles of 64 rows stream through
// shared memory with cp.async, double-buffered, and reach registers through ldmatrix. The backward
// recomputes probabilities from the saved log-sum-exp in two kernels (dK/dV per key block, dQ per
// query block): no atomics, so gradients are deterministic.
//
// The kernels are bound by instruction issue rather than by the tensor cores, so the per-element
// work is kept minimal: only tiles that straddle the diagonal, the sequence end or the window edge
// are masked (a template flag), and exponentials are single ex2 instructions with the softmax
// scale folded into one FMA.
#include "attention_tiles.cuh"

using namespace lk;
using namespace lk::attn;

namespace {

constexpr int WARPS = 4, TILE = 64;


// ---- PTX wrappers ----

__device__ __forceinline__ void mma(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// four 8x8 bf16 matrices; lane l gives the address of row l % 8 of matrix l / 8
__device__ __forceinline__ void ldsm_x4(uint32_t (&r)[4], const bf16 *p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_addr(p)));
}

// the same, transposed: the B operand of two n-tiles from a row-major [k][n] tile
__device__ __forceinline__ void ldsm_x4_trans(uint32_t (&r)[4], const bf16 *p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_addr(p)));
}

// ---- fragments from shared memory (row-major tiles with a padded stride `ld`) ----

// A operand (16x16) at rows r0.., cols c0..: matrices (r0,c0) (r0+8,c0) (r0,c0+8) (r0+8,c0+8)
__device__ __forceinline__ void load_a(uint32_t (&a)[4], const bf16 *t, int ld, int r0, int c0, int lane) {
  ldsm_x4(a, t + (r0 + (lane / 8 % 2) * 8 + lane % 8) * ld + c0 + (lane / 16) * 8);
}

// B operands (16x8, k x n) of n-tiles n0 and n0+8 when the tile stores n as rows:
// element (k, n) = t[(n0+n)*ld + k0+k]; b[0..1] for n0, b[2..3] for n0+8
__device__ __forceinline__ void load_b_rows(uint32_t (&b)[4], const bf16 *t, int ld, int n0, int k0, int lane) {
  ldsm_x4(b, t + (n0 + (lane / 16) * 8 + lane % 8) * ld + k0 + (lane / 8 % 2) * 8);
}

// B operands of n-tiles n0 and n0+8 when the tile stores k as rows: element (k, n) = t[(k0+k)*ld + n0+n]
__device__ __forceinline__ void load_b_cols(uint32_t (&b)[4], const bf16 *t, int ld, int k0, int n0, int lane) {
  ldsm_x4_trans(b, t + (k0 + lane % 16) * ld + n0 + (lane / 16) * 8);
}

// ROWS rows of head h of x[B,T,H,D] from row r0 into a shared tile (stride D+8), zero past T
template <int D, int ROWS = TILE>
__device__ __forceinline__ void stage(bf16 *dst, const bf16 *x, int64_t b, int64_t r0, int64_t T_, int64_t H, int64_t h) {
  constexpr int VEC = D / 8, LD = D + 8;
  for (int idx = threadIdx.x; idx < ROWS * VEC; idx += WARPS * 32) {
    const int r = idx / VEC, c = idx % VEC;
    const int64_t row = r0 + r;
    const bool ok = row < T_;
    cp_async16(dst + r * LD + c * 8, x + ((b * T_ + (ok ? row : 0)) * H + h) * D + c * 8, ok);
  }
}

// c[mt][n] and c[mt][n+1] += a[mt] times the B fragments of two n-tiles, for every m-tile
template <int MT, int N>
__device__ __forceinline__ void mma_pair(float (&c)[MT][N][4], int n, const uint32_t (&a)[MT][4],
                                         const uint32_t (&b)[4]) {
#pragma unroll
  for (int mt = 0; mt < MT; ++mt) {
    mma(c[mt][n], a[mt], b[0], b[1]);
    mma(c[mt][n + 1], a[mt], b[2], b[3]);
  }
}

// S = A Bᵀ for MT m-tiles of 16 rows of A (from row a0 of As) against the 64 rows of Bs: each B
// fragment read from shared memory feeds MT products, which is what keeps ldmatrix traffic below
// the tensor cores' rate.
template <int D, int MT>
__device__ __forceinline__ void scores(float (&s)[MT][TILE / 8][4], const bf16 *As, int a0, const bf16 *Bs, int lane) {
  constexpr int LD = D + 8;
#pragma unroll
  for (int mt = 0; mt < MT; ++mt)
#pragma unroll
    for (int n = 0; n < TILE / 8; ++n) s[mt][n][0] = s[mt][n][1] = s[mt][n][2] = s[mt][n][3] = 0.f;
#pragma unroll
  for (int kk = 0; kk < D / 16; ++kk) {
    uint32_t a[MT][4];
#pragma unroll
    for (int mt = 0; mt < MT; ++mt) load_a(a[mt], As, LD, a0 + mt * 16, kk * 16, lane);
#pragma unroll
    for (int n = 0; n < TILE / 8; n += 2) {
      uint32_t b[4];
      load_b_rows(b, Bs, LD, n * 8, kk * 16, lane);
      mma_pair(s, n, a, b);
    }
  }
}

// acc += A B for MT m-tiles, where A is 16 x 64 (fragments from scores) and B a 64 x D tile stored k-major
template <int D, int MT>
__device__ __forceinline__ void accumulate(float (&acc)[MT][D / 8][4], const float (&p)[MT][TILE / 8][4],
                                           const bf16 *Bs, int lane) {
  constexpr int LD = D + 8;
#pragma unroll
  for (int kt = 0; kt < TILE / 16; ++kt) {
    uint32_t a[MT][4];
#pragma unroll
    for (int mt = 0; mt < MT; ++mt) as_a(a[mt], p[mt][2 * kt], p[mt][2 * kt + 1]);
#pragma unroll
    for (int n = 0; n < D / 8; n += 2) {
      uint32_t b[4];
      load_b_cols(b, Bs, LD, kt * 16, n * 8, lane);
      mma_pair(acc, n, a, b);
    }
  }
}

// The double-buffering step of the forward and dQ kernels: stage key/value tile t + 1 (rows from
// j_next) into the other buffer while waiting for tile t, then make tile t visible to the block.
template <int D>
__device__ __forceinline__ void next_kv_tile(bf16 *KV, const bf16 *k, const bf16 *v, int64_t b, int j_next, int T_,
                                             int64_t Hkv, int64_t kvh, int t, int ntiles) {
  constexpr int TS = TILE * (D + 8);
  if (t + 1 < ntiles) {
    bf16 *nk = KV + ((t + 1) & 1) * 2 * TS;
    stage<D>(nk, k, b, j_next, T_, Hkv, kvh);
    stage<D>(nk + TS, v, b, j_next, T_, Hkv, kvh);
    cp_commit();
    cp_wait<1>();
  } else {
    cp_wait<0>();
  }
  __syncthreads();
}

// ---- forward ----

// A warp owns MT m-tiles (16·MT query rows), so a block covers QROWS = 64·MT queries.
template <int D, int MT>
__global__ void __launch_bounds__(WARPS * 32) attn_fwd_tc(bf16 *out, float *lse, const bf16 *q, const bf16 *k,
                                                          const bf16 *v, Span span, int64_t Hq, int64_t Hkv,
                                                          float scale) {
  constexpr int LD = D + 8, TS = TILE * LD, QROWS = WARPS * 16 * MT;
  extern __shared__ __align__(128) unsigned char smem[];
  bf16 *Qs = reinterpret_cast<bf16 *>(smem), *KV = Qs + QROWS * LD;  // then 2 stages of (K, V)
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t b = blockIdx.z, h = blockIdx.y, kvh = h / (Hq / Hkv);
  const Span sp = span.row(b);
  const int T_ = sp.T;
  const int q0 = (int)(gridDim.x - 1 - blockIdx.x) * QROWS;  // heaviest (latest) query tiles first
  const int jlo = sp.first_key(q0) / TILE * TILE;
  const int ntiles = (min(T_ - 1, q0 + QROWS - 1) - jlo) / TILE + 1;
  const float sl2 = scale * LOG2E;

  stage<D, QROWS>(Qs, q, b, q0, T_, Hq, h);
  stage<D>(KV, k, b, jlo, T_, Hkv, kvh);
  stage<D>(KV + TS, v, b, jlo, T_, Hkv, kvh);
  cp_commit();

  const int w0 = warp * 16 * MT;  // the warp's first row in the block; lane rows w0 + 16·mt + lane/4 (+ 8)
  float o[MT][D / 8][4], m[MT][2], l[MT][2];
#pragma unroll
  for (int mt = 0; mt < MT; ++mt) {
    m[mt][0] = m[mt][1] = -INFINITY, l[mt][0] = l[mt][1] = 0.f;
#pragma unroll
    for (int n = 0; n < D / 8; ++n) o[mt][n][0] = o[mt][n][1] = o[mt][n][2] = o[mt][n][3] = 0.f;
  }

  for (int t = 0; t < ntiles; ++t) {
    const int j0 = jlo + t * TILE;
    const bf16 *Ks = KV + (t & 1) * 2 * TS, *Vs = Ks + TS;
    next_kv_tile<D>(KV, k, v, b, j0 + TILE, T_, Hkv, kvh, t, ntiles);
    float s[MT][TILE / 8][4];
    scores<D, MT>(s, Qs, w0, Ks, lane);
#pragma unroll
    for (int mt = 0; mt < MT; ++mt) {
      const int r0 = q0 + w0 + mt * 16;
      if (sp.needs_mask(r0, 16, j0, TILE))
        softmax_step<TILE, D, Masked>(s[mt], m[mt], l[mt], o[mt], r0 + lane / 4, j0, lane, sp, sl2);
      else
        softmax_step<TILE, D, Unmasked>(s[mt], m[mt], l[mt], o[mt], r0 + lane / 4, j0, lane, sp, sl2);
    }
    accumulate<D, MT>(o, s, Vs, lane);  // O += P V
    __syncthreads();                    // this stage is refilled two tiles from now
  }
#pragma unroll
  for (int mt = 0; mt < MT; ++mt)
    store_output<D>(out, lse, o[mt], m[mt], l[mt], b, h, Hq, q0 + w0 + mt * 16 + lane / 4, T_, lane, scale);
}

// ---- backward: dQ (a warp owns 16 queries; key tiles stream) ----

template <int D>
__global__ void __launch_bounds__(WARPS * 32, D == 64 ? 4 : 1) attn_bwd_dq_tc(bf16 *dq, const bf16 *dout, const float *lse,
                                                             const float *dsum, const bf16 *q, const bf16 *k,
                                                             const bf16 *v, Span span, int64_t Hq, int64_t Hkv,
                                                             float scale) {
  constexpr int LD = D + 8, TS = TILE * LD;
  extern __shared__ __align__(128) unsigned char smem[];
  bf16 *Qs = reinterpret_cast<bf16 *>(smem), *Os = Qs + TS, *KV = Os + TS;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t b = blockIdx.z, h = blockIdx.y, kvh = h / (Hq / Hkv);
  const Span sp = span.row(b);
  const int T_ = sp.T;
  const int q0 = (int)(gridDim.x - 1 - blockIdx.x) * TILE;
  const int jlo = sp.first_key(q0) / TILE * TILE;
  const int ntiles = (min(T_ - 1, q0 + TILE - 1) - jlo) / TILE + 1;
  const float sl2 = scale * LOG2E;

  stage<D>(Qs, q, b, q0, T_, Hq, h);
  stage<D>(Os, dout, b, q0, T_, Hq, h);
  stage<D>(KV, k, b, jlo, T_, Hkv, kvh);
  stage<D>(KV + TS, v, b, jlo, T_, Hkv, kvh);
  cp_commit();

  const int i0 = q0 + warp * 16 + lane / 4;
  float lse2[2], di[2];
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int64_t i = min(i0 + r * 8, T_ - 1);
    lse2[r] = lse[(b * Hq + h) * T_ + i] * LOG2E;
    di[r] = dsum[(b * Hq + h) * T_ + i];
  }
  float acc[1][D / 8][4];
#pragma unroll
  for (int n = 0; n < D / 8; ++n) acc[0][n][0] = acc[0][n][1] = acc[0][n][2] = acc[0][n][3] = 0.f;

  for (int t = 0; t < ntiles; ++t) {
    const int j0 = jlo + t * TILE;
    const bf16 *Ks = KV + (t & 1) * 2 * TS, *Vs = Ks + TS;
    next_kv_tile<D>(KV, k, v, b, j0 + TILE, T_, Hkv, kvh, t, ntiles);
    float s[1][TILE / 8][4], dp[1][TILE / 8][4];
    scores<D, 1>(s, Qs, warp * 16, Ks, lane);   // S = Q Kᵀ
    scores<D, 1>(dp, Os, warp * 16, Vs, lane);  // dP = dO Vᵀ
    if (sp.needs_mask(q0, TILE, j0, TILE))
      score_grads<TILE, Masked>(s[0], dp[0], lse2, di, i0, j0, lane, sp, sl2);
    else
      score_grads<TILE, Unmasked>(s[0], dp[0], lse2, di, i0, j0, lane, sp, sl2);
    accumulate<D, 1>(acc, s, Ks, lane);  // dQ += dS K
    __syncthreads();
  }
  store_rows<D>(dq, acc[0], b, h, Hq, i0, T_, lane, scale);
}

// ---- backward: dK, dV (a warp owns 16 keys; query tiles of every head of the GQA group stream) ----

template <int D>
__global__ void __launch_bounds__(WARPS * 32, D == 64 ? 3 : 1) attn_bwd_dkv_tc(bf16 *dk, bf16 *dv, const bf16 *dout, const float *lse,
                                                              const float *dsum, const bf16 *q, const bf16 *k,
                                                              const bf16 *v, Span span, int64_t Hq, int64_t Hkv,
                                                              float scale) {
  constexpr int LD = D + 8, TS = TILE * LD;
  extern __shared__ __align__(128) unsigned char smem[];
  bf16 *Ks = reinterpret_cast<bf16 *>(smem), *Vs = Ks + TS, *QO = Vs + TS;  // then 2 stages of (Q, dO)
  float *LD2 = reinterpret_cast<float *>(QO + 4 * TS);                       // 2 stages of (lse, dsum) x 64
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t b = blockIdx.z, g = blockIdx.y, group = Hq / Hkv;
  const Span sp = span.row(b);
  const int T_ = sp.T;
  const int j0 = (int)blockIdx.x * TILE;
  const int ihi = sp.last_query(j0 + TILE - 1);
  const int per_head = (ihi - j0) / TILE + 1, ntiles = per_head * (int)group;
  const float sl2 = scale * LOG2E;

  auto issue = [&](int t) {  // stage query tile t (head-major) into buffer t & 1
    const int64_t h = g * group + t / per_head;
    const int i0 = j0 + (t % per_head) * TILE;
    bf16 *dst = QO + (t & 1) * 2 * TS;
    stage<D>(dst, q, b, i0, T_, Hq, h);
    stage<D>(dst + TS, dout, b, i0, T_, Hq, h);
    float *ld = LD2 + (t & 1) * 2 * TILE;
    if (threadIdx.x < TILE) {
      const int64_t i = min(i0 + (int)threadIdx.x, T_ - 1);
      ld[threadIdx.x] = lse[(b * Hq + h) * T_ + i];
      ld[TILE + threadIdx.x] = dsum[(b * Hq + h) * T_ + i];
    }
  };
  stage<D>(Ks, k, b, j0, T_, Hkv, g);
  stage<D>(Vs, v, b, j0, T_, Hkv, g);
  issue(0);
  cp_commit();

  const int jr = j0 + warp * 16 + lane / 4;  // this lane's keys: jr and jr + 8
  float dka[1][D / 8][4], dva[1][D / 8][4];
#pragma unroll
  for (int n = 0; n < D / 8; ++n)
#pragma unroll
    for (int e = 0; e < 4; ++e) dka[0][n][e] = dva[0][n][e] = 0.f;

  for (int t = 0; t < ntiles; ++t) {
    const int i0 = j0 + (t % per_head) * TILE;
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
    float s[1][TILE / 8][4], dp[1][TILE / 8][4];
    scores<D, 1>(s, Ks, warp * 16, Qs, lane);   // Sᵀ = K Qᵀ
    scores<D, 1>(dp, Vs, warp * 16, Os, lane);  // dPᵀ = V dOᵀ
    if (sp.needs_mask(i0, TILE, j0, TILE))
      transposed_grads<TILE, Masked>(s[0], dp[0], Lr, Dr, i0, jr, lane, sp, sl2);
    else
      transposed_grads<TILE, Unmasked>(s[0], dp[0], Lr, Dr, i0, jr, lane, sp, sl2);
    accumulate<D, 1>(dva, s, Os, lane);   // dV += Pᵀ dO
    accumulate<D, 1>(dka, dp, Qs, lane);  // dK += dSᵀ Q
    __syncthreads();
  }
  store_rows<D>(dk, dka[0], b, g, Hkv, jr, T_, lane, scale);
  store_rows<D>(dv, dva[0], b, g, Hkv, jr, T_, lane, 1.f);
}

template <int D, int MT>
int launch_fwd(lk_ptr out, lk_ptr lse, lk_ptr q, lk_ptr k, lk_ptr v, int64_t B, int64_t T_, int64_t Hq, int64_t Hkv,
               float scale, int64_t window, lk_ptr seq_start, lk_ptr seq_end) {
  constexpr int QROWS = WARPS * 16 * MT;
  const size_t bytes = (QROWS + 4 * TILE) * (D + 8) * sizeof(bf16);  // Q + 2 x (K, V)
  static const int rc = configure(attn_fwd_tc<D, MT>, bytes, "attention_fwd");
  if (rc != LK_OK) return rc;
  const dim3 grid((unsigned)((T_ + QROWS - 1) / QROWS), (unsigned)Hq, (unsigned)B);
  attn_fwd_tc<D, MT><<<grid, WARPS * 32, bytes, g_stream>>>(at<bf16>(out), at<float>(lse), at<bf16>(q), at<bf16>(k),
                                                        at<bf16>(v), span_of(T_, window, seq_start, seq_end), Hq, Hkv, scale);
  return launch_check("attention_fwd");
}

template <int D>
int launch_bwd(lk_ptr dq, lk_ptr dk, lk_ptr dv, lk_ptr dout, lk_ptr lse, const float *dsum, lk_ptr q, lk_ptr k, lk_ptr v,
               int64_t B, int64_t T_, int64_t Hq, int64_t Hkv, float scale, int64_t window, lk_ptr seq_start, lk_ptr seq_end) {
  const size_t dq_bytes = 6 * TILE * (D + 8) * sizeof(bf16);                                  // Q, dO + 2 x (K, V)
  const size_t dkv_bytes = 6 * TILE * (D + 8) * sizeof(bf16) + 4 * TILE * sizeof(float);     // K, V + 2 x (Q, dO, lse, dsum)
  static const int rc1 = configure(attn_bwd_dq_tc<D>, dq_bytes, "attention_bwd");
  static const int rc2 = configure(attn_bwd_dkv_tc<D>, dkv_bytes, "attention_bwd");
  if (rc1 != LK_OK) return rc1;
  if (rc2 != LK_OK) return rc2;
  const unsigned tiles = (unsigned)((T_ + TILE - 1) / TILE);
  attn_bwd_dkv_tc<D><<<dim3(tiles, (unsigned)Hkv, (unsigned)B), WARPS * 32, dkv_bytes, g_stream>>>(
      at<bf16>(dk), at<bf16>(dv), at<bf16>(dout), at<float>(lse), dsum, at<bf16>(q), at<bf16>(k), at<bf16>(v), span_of(T_, window, seq_start, seq_end),
      Hq, Hkv, scale);
  attn_bwd_dq_tc<D><<<dim3(tiles, (unsigned)Hq, (unsigned)B), WARPS * 32, dq_bytes, g_stream>>>(
      at<bf16>(dq), at<bf16>(dout), at<float>(lse), dsum, at<bf16>(q), at<bf16>(k), at<bf16>(v), span_of(T_, window, seq_start, seq_end), Hq, Hkv,
      scale);
  return launch_check("attention_bwd");
}

}  // namespace

namespace lk {

// Return LK_ERR_UNSUPPORTED (recording no error) for shapes these kernels do not serve, so the
// caller falls back to the general kernels.
int attention_fwd_tc(lk_ptr out, lk_ptr lse, lk_ptr q, lk_ptr k, lk_ptr v, int64_t B, int64_t T_, int64_t Hq,
                     int64_t Hkv, int64_t D, float scale, int64_t window, lk_ptr seq_start, lk_ptr seq_end, int dt) {
  if (dt != LK_BF16 || ((q | k | v | out) & 15) != 0) return LK_ERR_UNSUPPORTED;
  if (D == 64) return launch_fwd<64, 2>(out, lse, q, k, v, B, T_, Hq, Hkv, scale, window, seq_start, seq_end);
  // two m-tiles per warp would need more than 255 registers at head dim 128
  if (D == 128) return launch_fwd<128, 1>(out, lse, q, k, v, B, T_, Hq, Hkv, scale, window, seq_start, seq_end);
  return LK_ERR_UNSUPPORTED;
}

int attention_bwd_tc(lk_ptr dq, lk_ptr dk, lk_ptr dv, lk_ptr dout, lk_ptr lse, const float *dsum, lk_ptr q, lk_ptr k,
                     lk_ptr v, int64_t B, int64_t T_, int64_t Hq, int64_t Hkv, int64_t D, float scale, int64_t window,
                     lk_ptr seq_start, lk_ptr seq_end, int dt) {
  if (dt != LK_BF16 || ((q | k | v | dout | dq | dk | dv) & 15) != 0) return LK_ERR_UNSUPPORTED;
  if (D == 64) return launch_bwd<64>(dq, dk, dv, dout, lse, dsum, q, k, v, B, T_, Hq, Hkv, scale, window, seq_start, seq_end);
  if (D == 128) return launch_bwd<128>(dq, dk, dv, dout, lse, dsum, q, k, v, B, T_, Hq, Hkv, scale, window, seq_start, seq_end);
  return LK_ERR_UNSUPPORTED;
}

}  // namespace lk
