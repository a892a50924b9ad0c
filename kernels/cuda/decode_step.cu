// A whole batch-1 decode pass in one kernel (lk_decode_step): embedding, every layer, final norm.
//
// Op by op, a batch-1 step of a small model is about ten short kernels a layer, and each waits
// on the one before it: the step takes several times what reading its weights takes. Here one
// block per SM stays resident for the whole pass and the stages of a layer are separated by grid
// barriers:
//   A  norm(x) → q/k/v rows in pairs (i, i + D/2), rotated, k and v appended to the cache
//   B  attention over the cache, a warp per (head, key split, quarter); the last warp of a
//      split merges its quarters and the last split of a head merges the splits
//   C  o product, x2 = x + o
//   D  norm(x2) → gate and up rows in pairs, SwiGLU
//   E  down product, x = x2 + down
// The weights do not depend on the activations, so each warp loads its next stage's rows into
// registers before it waits at the barrier: the wait and the weight stream overlap.
//
// Every sum runs in the order of the op-by-op kernels (gemv's lanes and shuffles, rmsnorm's
// row_rstd, decode_keys with decode_splits' splits, rope_append's rotation), so a token's hidden
// state has the same bits either way; the tests compare the two.
#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "common.cuh"
#include "decode_attention.cuh"

namespace lk {
namespace {

using bf16 = __nv_bfloat16;

constexpr int STEP_WARPS = 16;

// A layer's weights as the pointer table lists them (LK_DECODE_STEP_LAYER_PTRS).
struct LayerWeights {
  const bf16 *in_norm, *qkv_w, *qkv_b, *o_w, *post_norm, *gate_up_w, *down_w;
};

struct StepArgs {
  bf16 *h_out;
  const LayerWeights *layers;
  int L;
  const bf16 *embed, *final_norm;
  const int32_t *ids, *slot, *pos;
  bf16 *kc, *vc;  // layer 0's cache; layer l's starts l * layer_stride elements on
  int64_t layer_stride;
  int V, C, Hq, Hkv, D, F, Tmax, splits, chunk;
  float base, eps, scale;
  // the workspace: barrier (count, generation), merge counters, activations, attention partials
  unsigned *barrier, *split_done, *head_done;
  bf16 *x, *x2, *q, *att, *act;
  float *warp_part, *split_part;
};

__device__ __forceinline__ float bf16_rounded(float v) { return rounded<bf16>(v); }

// R weight rows of K bf16 against a vector in shared memory, a warp for all R: gemv_kernel's sums
// (each lane over chunks lane, lane + 32, ..., then warp_sum). fetch() loads each row's first
// chunks ahead, before the barrier the product waits on.
template <int R>
struct Rows {
  static constexpr int AHEAD = 8 / R;  // 16-byte chunks per lane and row
  const uint4 *w[R];
  uint4 ahead[R][AHEAD];

  __device__ void fetch(const bf16 *const (&rows)[R], int64_t K8, int lane) {
#pragma unroll
    for (int r = 0; r < R; ++r) {
      w[r] = reinterpret_cast<const uint4 *>(rows[r]);
#pragma unroll
      for (int j = 0; j < AHEAD; ++j) ahead[r][j] = lane + 32 * j < K8 ? ld_streaming(w[r] + lane + 32 * j) : uint4{};
    }
  }

  __device__ void dot(float (&acc)[R], const uint4 *x, int64_t K8, int lane) const {
#pragma unroll
    for (int r = 0; r < R; ++r) acc[r] = 0.f;
#pragma unroll
    for (int j = 0; j < AHEAD; ++j) {
      const int64_t c = lane + 32 * j;
      if (c < K8) {
        const uint4 xv = x[c];
#pragma unroll
        for (int r = 0; r < R; ++r) acc[r] += dot8(ahead[r][j], xv);
      }
    }
    for (int64_t c = lane + 32 * AHEAD; c < K8; c += 32) {
      const uint4 xv = x[c];
#pragma unroll
      for (int r = 0; r < R; ++r) acc[r] += dot8(ld_streaming(w[r] + c), xv);
    }
#pragma unroll
    for (int r = 0; r < R; ++r) acc[r] = warp_sum(acc[r]);
  }
};

// vec = rmsnorm(row) * w as bf16 in shared memory, with rmsnorm's bits (row_rstd over the row as
// stored, then v * r * g). The row may have been written by other blocks: it is read through L2.
__device__ void norm_into(bf16 *vec, float *rowf, float *r_shared, const bf16 *row, const bf16 *w, int C, float eps) {
  for (int c = threadIdx.x; c < C; c += blockDim.x) rowf[c] = __bfloat162float(__ldcg(row + c));
  __syncthreads();
  if (threadIdx.x < 32) {
    const float r = row_rstd(rowf, C, eps, threadIdx.x);
    if (threadIdx.x == 0) *r_shared = r;
  }
  __syncthreads();
  const float r = *r_shared;
  for (int c = threadIdx.x; c < C; c += blockDim.x) vec[c] = __float2bfloat16_rn(rowf[c] * r * __bfloat162float(w[c]));
  __syncthreads();
}

// vec = src (n bf16, n % 8 == 0), written by other blocks
__device__ void stage(bf16 *vec, const bf16 *src, int n) {
  for (int c = threadIdx.x; c < n / 8; c += blockDim.x)
    reinterpret_cast<uint4 *>(vec)[c] = __ldcg(reinterpret_cast<const uint4 *>(src) + c);
  __syncthreads();
}

// Stages C and E: out[n] = resid[n] + w[n] · vec for the C rows of w [C, K], each a warp's, as
// gemv (stored as bf16) then add_rmsnorm's sum compute them; `row` holds the warp's first row,
// fetched before the barrier.
__device__ void residual_product(bf16 *out, const bf16 *resid, const bf16 *w, int K, Rows<1> &row, const uint4 *vec16,
                                 int C, int gw, int W, int lane) {
  for (int n = gw; n < C; n += W) {
    if (n != gw) row.fetch({w + (int64_t)n * K}, K / 8, lane);
    float acc[1];
    row.dot(acc, vec16, K / 8, lane);
    if (lane == 0) out[n] = __float2bfloat16_rn(__bfloat162float(__ldcg(resid + n)) + bf16_rounded(acc[0] + 0.f));
  }
}

// Stage A's unit u: the q/k/v rows i and i + D/2 of one head, which RoPE rotates together.
__device__ __forceinline__ void qkv_rows(const bf16 *(&rows)[2], const StepArgs &a, const LayerWeights &lw, int u) {
  const int half = a.D / 2, head = u / half, i = u % half;
  rows[0] = lw.qkv_w + (int64_t)(head * a.D + i) * a.C;
  rows[1] = rows[0] + (int64_t)half * a.C;
}

// Stage A's end of unit u, as gemv (bias added, stored as bf16) and rope_append compute it.
__device__ void qkv_store(const StepArgs &a, const LayerWeights &lw, int l, int u, const float (&acc)[2]) {
  const int half = a.D / 2, head = u / half, i = u % half, o = head * a.D + i;
  const int64_t p = a.pos[0], sl = a.slot[0];
  const float x0 = bf16_rounded(acc[0] + __bfloat162float(lw.qkv_b[o]));
  const float x1 = bf16_rounded(acc[1] + __bfloat162float(lw.qkv_b[o + half]));
  const int64_t to = (sl * a.Tmax + p) * (int64_t)a.Hkv * a.D + l * a.layer_stride;
  if (head >= a.Hq + a.Hkv) {  // a value row: copied as stored
    if (sl < 0) return;
    bf16 *vrow = a.vc + to + (int64_t)(head - a.Hq - a.Hkv) * a.D;
    vrow[i] = __float2bfloat16_rn(x0), vrow[i + half] = __float2bfloat16_rn(x1);
    return;
  }
  const bool query = head < a.Hq;
  if (!query && sl < 0) return;
  float sn0, c0;
  sincosf((float)p * lk_rope_inv_freq(a.base, i, a.D), &sn0, &c0);
  const float s = lk_logn_scale(p, 0), c = c0 * s, sn = sn0 * s;
  bf16 *orow = query ? a.q + (int64_t)head * a.D : a.kc + to + (int64_t)(head - a.Hq) * a.D;
  orow[i] = __float2bfloat16_rn(x0 * c - x1 * sn);
  orow[i + half] = __float2bfloat16_rn(x1 * c + x0 * sn);
}

// Stage B: attn_decode's arithmetic, its four warps of a (head, split) block spread over the grid.
template <int DPL>
__device__ void attention(const StepArgs &a, int l, int gw, int W, int lane) {
  const int D = a.D, splits = a.splits;
  const int64_t s = a.slot[0], p = s < 0 ? -1 : a.pos[0];
  const bf16 *kc = a.kc + l * a.layer_stride, *vc = a.vc + l * a.layer_stride;
  for (int u = gw; u < a.Hq * splits * 4; u += W) {
    const int quarter = u % 4, split = (u / 4) % splits, h = u / (4 * splits), hs = h * splits + split;
    const int64_t j0 = (int64_t)split * a.chunk, j1 = min(p + 1, (int64_t)(split + 1) * a.chunk);
    float acc[DPL], m, lsum;
    decode_keys<bf16, DPL, true>(acc, m, lsum, a.q + (int64_t)h * D, kc, vc, s, h / (a.Hq / a.Hkv), a.Tmax, a.Hkv, D,
                                 a.scale, j0 + quarter * DECODE_KEYS_IN_FLIGHT, j1, lane);
    float *wp = a.warp_part + ((int64_t)hs * 4 + quarter) * (D + 2);
    if (lane == 0) wp[0] = m, wp[1] = lsum;
#pragma unroll
    for (int t = 0; t < DPL; ++t)
      if (t * 32 + lane < D) wp[2 + t * 32 + lane] = acc[t];
    // the last quarter of the split to finish merges the four, as attn_decode's block does
    __threadfence();
    __syncwarp();
    bool last = lane == 0 && atomicAdd(a.split_done + hs, 1u) == 3;
    if (!__shfl_sync(0xffffffffu, last, 0)) continue;
    __threadfence();
    if (lane == 0) a.split_done[hs] = 0;
    const float *bp = a.warp_part + (int64_t)hs * 4 * (D + 2);
    float wm[4], wl[4];
#pragma unroll
    for (int w = 0; w < 4; ++w) wm[w] = __ldcg(bp + w * (D + 2)), wl[w] = __ldcg(bp + w * (D + 2) + 1);
    float M = fmaxf(fmaxf(wm[0], wm[1]), fmaxf(wm[2], wm[3])), z = 0.f;
    for (int w = 0; w < 4; ++w) z = merged_sum(z, wm[w], wl[w], M);
    bf16 *out = a.att + (int64_t)h * D;
    float *sp = splits > 1 ? a.split_part + (int64_t)hs * (D + 2) : nullptr;
    if (sp && lane == 0) sp[0] = M, sp[1] = z;
    for (int d = lane; d < D; d += 32) {
      float o = 0.f;
      for (int w = 0; w < 4; ++w) o = merged_sum(o, wm[w], __ldcg(bp + w * (D + 2) + 2 + d), M);
      if (sp) sp[2 + d] = o;
      else out[d] = __float2bfloat16_rn(z > 0.f ? o / z : 0.f);
    }
    if (!sp) continue;
    // the last split of the head to finish merges the splits, as decode_merge does
    __threadfence();
    __syncwarp();
    last = lane == 0 && atomicAdd(a.head_done + h, 1u) == (unsigned)splits - 1;
    if (!__shfl_sync(0xffffffffu, last, 0)) continue;
    __threadfence();
    if (lane == 0) a.head_done[h] = 0;
    const float *pr = a.split_part + (int64_t)h * splits * (D + 2);
    M = -INFINITY;
    for (int k = 0; k < splits; ++k) M = fmaxf(M, __ldcg(pr + k * (D + 2)));
    z = 0.f;
    for (int k = 0; k < splits; ++k) z = merged_sum(z, __ldcg(pr + k * (D + 2)), __ldcg(pr + k * (D + 2) + 1), M);
    for (int d = lane; d < D; d += 32) {
      float o = 0.f;
      for (int k = 0; k < splits; ++k) o = merged_acc(o, __ldcg(pr + k * (D + 2)), __ldcg(pr + k * (D + 2) + 2 + d), M);
      out[d] = __float2bfloat16_rn(z > 0.f ? o / z : 0.f);
    }
  }
}

template <int DPL>
__global__ void __launch_bounds__(STEP_WARPS * 32, 1) decode_step_kernel(const __grid_constant__ StepArgs a) {
  pdl_wait();
  extern __shared__ float shared[];
  float *rowf = shared, *r_shared = shared + a.C;
  bf16 *vec = reinterpret_cast<bf16 *>(shared + ((a.C + 1 + 3) & ~3));  // 16-byte aligned
  const uint4 *vec16 = reinterpret_cast<const uint4 *>(vec);
  const int lane = threadIdx.x & 31, W = gridDim.x * STEP_WARPS, gw = blockIdx.x * STEP_WARPS + (threadIdx.x >> 5);
  const int C = a.C, F = a.F, HD = a.Hq * a.D, qkv_units = (a.Hq + 2 * a.Hkv) * a.D / 2;
  // ids come from the sampler; a bad one must not read outside the table
  const int id = min(max(a.ids[0], 0), a.V - 1);
  const bf16 *embedded = a.embed + (int64_t)id * C;

  Rows<2> pair;
  Rows<1> row;
  if (gw < qkv_units) {
    const bf16 *rows[2];
    qkv_rows(rows, a, a.layers[0], gw);
    pair.fetch(rows, C / 8, lane);
  }
  for (int l = 0; l < a.L; ++l) {
    const LayerWeights lw = a.layers[l];
    const bf16 *x = l == 0 ? embedded : a.x;
    if (l > 0) grid_sync(a.barrier);
    // A
    norm_into(vec, rowf, r_shared, x, lw.in_norm, C, a.eps);
    for (int u = gw; u < qkv_units; u += W) {
      if (u != gw) {
        const bf16 *rows[2];
        qkv_rows(rows, a, lw, u);
        pair.fetch(rows, C / 8, lane);
      }
      float acc[2];
      pair.dot(acc, vec16, C / 8, lane);
      if (lane == 0) qkv_store(a, lw, l, u, acc);
    }
    grid_sync(a.barrier);
    // B
    attention<DPL>(a, l, gw, W, lane);
    if (gw < C) row.fetch({lw.o_w + (int64_t)gw * HD}, HD / 8, lane);
    grid_sync(a.barrier);
    // C
    stage(vec, a.att, HD);
    residual_product(a.x2, x, lw.o_w, HD, row, vec16, C, gw, W, lane);
    if (gw < F) pair.fetch({lw.gate_up_w + (int64_t)gw * C, lw.gate_up_w + (int64_t)(F + gw) * C}, C / 8, lane);
    grid_sync(a.barrier);
    // D
    norm_into(vec, rowf, r_shared, a.x2, lw.post_norm, C, a.eps);
    for (int j = gw; j < F; j += W) {
      if (j != gw) pair.fetch({lw.gate_up_w + (int64_t)j * C, lw.gate_up_w + (int64_t)(F + j) * C}, C / 8, lane);
      float acc[2];
      pair.dot(acc, vec16, C / 8, lane);
      if (lane == 0) {
        const float g = bf16_rounded(acc[0] + 0.f), up = bf16_rounded(acc[1] + 0.f);
        a.act[j] = __float2bfloat16_rn(g / (1.f + __expf(-g)) * up);  // SwigluOp
      }
    }
    if (gw < C) row.fetch({lw.down_w + (int64_t)gw * F}, F / 8, lane);
    grid_sync(a.barrier);
    // E
    stage(vec, a.act, F);
    residual_product(a.x, a.x2, lw.down_w, F, row, vec16, C, gw, W, lane);
    if (l + 1 < a.L && gw < qkv_units) {
      const bf16 *rows[2];
      qkv_rows(rows, a, a.layers[l + 1], gw);
      pair.fetch(rows, C / 8, lane);
    }
  }
  grid_sync(a.barrier);
  if (blockIdx.x != 0) return;
  norm_into(vec, rowf, r_shared, a.x, a.final_norm, C, a.eps);
  for (int c = threadIdx.x; c < C; c += blockDim.x) a.h_out[c] = vec[c];
}

size_t align16(size_t n) { return (n + 15) & ~(size_t)15; }

}  // namespace
}  // namespace lk

using namespace lk;

extern "C" {

int lk_decode_step(lk_ptr h, lk_ptr layers, int64_t L, lk_ptr embed, lk_ptr final_norm, lk_ptr ids, lk_ptr slot,
                   lk_ptr pos, lk_ptr kcache, lk_ptr vcache, int64_t S, int64_t Tmax, int64_t V, int64_t C, int64_t Hq,
                   int64_t Hkv, int64_t D, int64_t F, float base, float eps, lk_ptr workspace, int dt) {
  // opt-in (LOOM_FUSED_DECODE=1) until it has run on a GPU: written and compiled, never run yet
  static const bool enabled = getenv("LOOM_FUSED_DECODE") != nullptr && getenv("LOOM_FUSED_DECODE")[0] == '1';
  if (!enabled || g_batch_invariant || dt != LK_BF16 || !(D == 32 || D == 64 || D == 128) || C % 8 != 0 || F % 8 != 0 ||
      Hkv <= 0 || Hq % Hkv != 0 || C > (1 << 20) || F > (1 << 20) || V > INT32_MAX || Tmax > (1 << 24))
    return fail(LK_ERR_UNSUPPORTED, "decode_step: no one-kernel step for this model here");
  LK_REQUIRE(h && layers && embed && final_norm && ids && slot && pos && kcache && vcache && workspace,
             "decode_step: a null pointer");
  const DecodeSplits plan = decode_splits(Hq, Tmax, true);
  StepArgs a{};
  a.h_out = at<bf16>(h), a.layers = at<const LayerWeights>(layers), a.L = (int)L;
  a.embed = at<const bf16>(embed), a.final_norm = at<const bf16>(final_norm);
  a.ids = at<const int32_t>(ids), a.slot = at<const int32_t>(slot), a.pos = at<const int32_t>(pos);
  a.kc = at<bf16>(kcache), a.vc = at<bf16>(vcache), a.layer_stride = S * Tmax * Hkv * D;
  a.V = (int)V, a.C = (int)C, a.Hq = (int)Hq, a.Hkv = (int)Hkv, a.D = (int)D, a.F = (int)F, a.Tmax = (int)Tmax;
  a.splits = (int)plan.splits, a.chunk = (int)plan.chunk;
  a.base = base, a.eps = eps, a.scale = (float)(1.0 / std::sqrt((double)D));  // as the caller of attention_decode rounds it
  // the workspace's layout; LK_DECODE_STEP_WORKSPACE bounds it
  char *w = at<char>(workspace);
  size_t off = 0;
  const auto take = [&](size_t bytes) {
    char *p = w + off;
    off += align16(bytes);
    return p;
  };
  a.barrier = reinterpret_cast<unsigned *>(take(2 * sizeof(unsigned)));
  a.split_done = reinterpret_cast<unsigned *>(take(Hq * plan.splits * sizeof(unsigned)));
  a.head_done = reinterpret_cast<unsigned *>(take(Hq * sizeof(unsigned)));
  a.x = reinterpret_cast<bf16 *>(take(C * 2)), a.x2 = reinterpret_cast<bf16 *>(take(C * 2));
  a.q = reinterpret_cast<bf16 *>(take(Hq * D * 2)), a.att = reinterpret_cast<bf16 *>(take(Hq * D * 2));
  a.act = reinterpret_cast<bf16 *>(take(F * 2));
  a.warp_part = reinterpret_cast<float *>(take(Hq * plan.splits * 4 * (D + 2) * sizeof(float)));
  a.split_part = reinterpret_cast<float *>(take(Hq * plan.splits * (D + 2) * sizeof(float)));
  LK_REQUIRE(off <= (size_t)LK_DECODE_STEP_WORKSPACE(C, Hq, D, F, Tmax), "decode_step: the workspace layout outgrew LK_DECODE_STEP_WORKSPACE");

  const size_t smem = align16((C + 1) * sizeof(float)) + align16(std::max(C, std::max(Hq * D, F)) * sizeof(bf16));
  const auto run = [&](auto kernel) -> int {
    // every block must be resident at once for the grid barriers: one per SM
    static int checked_smem = -1;
    if ((int)smem != checked_smem) {
      LK_CHECK(cuda_check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem), "decode_step"));
      int per_sm = 0;
      LK_CHECK(cuda_check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, STEP_WARPS * 32, smem), "decode_step"));
      if (per_sm < 1) return fail(LK_ERR_UNSUPPORTED, "decode_step: a block does not fit an SM");
      checked_smem = (int)smem;
    }
    launch(kernel, (unsigned)g_sm_count, STEP_WARPS * 32, smem, a);
    return launch_check("decode_step");
  };
  if (D == 32) return run(decode_step_kernel<1>);
  if (D == 64) return run(decode_step_kernel<2>);
  return run(decode_step_kernel<4>);
}

}  // extern "C"
