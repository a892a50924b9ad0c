// Tile-level pieces shared by the two tensor-core attention implementations: mma.sync
// (attention_tc.cu, sm_80 and newer) and wgmma (attention_wgmma.cu, sm_90a). Both hold a score
// tile in the accumulator layout of an m16n8 product repeated over NT / 8 n-tiles (lane l has rows
// l/4 and l/4 + 8, columns 2·(l%4) and +1 of each n-tile), so the softmax and gradient steps on
// that tile are written once here.
#pragma once

#include <type_traits>

#include "common.cuh"

namespace lk {
namespace attn {

typedef __nv_bfloat16 bf16;
constexpr float LOG2E = 1.4426950408889634f;
using Masked = std::true_type;
using Unmasked = std::false_type;

__device__ __forceinline__ uint32_t smem_addr(const void *p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

__device__ __forceinline__ void cp_async16(void *dst, const void *src, bool valid) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_addr(dst)), "l"(src), "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void cp_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void cp_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

__device__ __forceinline__ float exp2_approx(float x) {  // ex2(-inf) = 0
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
  return y;
}

__device__ __forceinline__ uint32_t pack(float lo, float hi) {
  __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<uint32_t *>(&v);
}

// the A fragment (16 x 16, bf16) of 16 keys (or queries) from two accumulator n-tiles
__device__ __forceinline__ void as_a(uint32_t (&a)[4], const float (&lo)[4], const float (&hi)[4]) {
  a[0] = pack(lo[0], lo[1]), a[1] = pack(lo[2], lo[3]), a[2] = pack(hi[0], hi[1]), a[3] = pack(hi[2], hi[3]);
}

// Which keys a query sees: causally, before the sequence end T, within the window (0: all) and,
// in a packed row, inside its own sequence: start[i] is the first position of query i's sequence,
// end[j] one past the last position of key j's (row-relative; null when a row is one sequence).
// Kernels get the whole batch's arrays and take their row's with row(b).
struct Span {
  int T, window;
  const int32_t *start, *end;

  __device__ __forceinline__ Span row(int64_t b) const {
    return {T, window, start ? start + b * T : nullptr, end ? end + b * T : nullptr};
  }
  __device__ __forceinline__ bool visible(int i, int j) const {
    return j <= i && i < T && (window <= 0 || i - j < window) && (!start || j >= __ldg(start + i));
  }
  // Whether queries [i0, i0+rows) against keys [j0, j0+cols) have any hidden pair (above the
  // diagonal, past the sequence end, outside the window, or before a query's sequence): only such
  // tiles are masked. Sequence starts rise with the position, so the last row's is the highest.
  __device__ __forceinline__ bool needs_mask(int i0, int rows, int j0, int cols) const {
    return j0 + cols - 1 > i0 || i0 + rows > T || (window > 0 && i0 + rows - 1 - j0 >= window) ||
           (start && __ldg(start + min(i0 + rows, T) - 1) > j0);
  }
  // The first key any query from q0 on sees.
  __device__ __forceinline__ int first_key(int q0) const {
    const int lo = window > 0 ? max(0, q0 - window + 1) : 0;
    return start ? max(lo, (int)__ldg(start + min(q0, T - 1))) : lo;
  }
  // The last query that sees any key up to j1.
  __device__ __forceinline__ int last_query(int j1) const {
    const int hi = window > 0 ? min(T - 1, j1 + window - 1) : T - 1;
    return end ? min(hi, (int)__ldg(end + min(j1, T - 1)) - 1) : hi;
  }
};

// Online softmax over one NT-wide score tile for this lane's rows i0 and i0 + 8: updates the
// running max m (of raw scores) and the lane-partial sum l, leaves the probabilities in s and the
// factor that rescales the output accumulated so far in corr.
template <int NT, typename Mask>
__device__ __forceinline__ void online_softmax(float (&s)[NT / 8][4], float (&m)[2], float (&l)[2], float (&corr)[2],
                                               int i0, int j0, int lane, const Span &sp, float sl2) {
  float mx[2] = {m[0], m[1]};
#pragma unroll
  for (int n = 0; n < NT / 8; ++n)
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      if (Mask::value && !sp.visible(i0 + (e / 2) * 8, j0 + n * 8 + (lane % 4) * 2 + (e % 2)))
        s[n][e] = -INFINITY;
      mx[e / 2] = fmaxf(mx[e / 2], s[n][e]);
    }
  float base[2];
#pragma unroll
  for (int r = 0; r < 2; ++r) {  // a row's 4 lanes share its max
    mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
    mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
    // a row that has met only hidden keys keeps max -inf, and its probabilities are exactly 0
    const bool empty = Mask::value && mx[r] == -INFINITY;
    base[r] = empty ? 0.f : mx[r] * sl2;
    corr[r] = empty ? 1.f : exp2_approx(m[r] * sl2 - base[r]);
    m[r] = mx[r];
    l[r] *= corr[r];
  }
#pragma unroll
  for (int n = 0; n < NT / 8; ++n)
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      s[n][e] = exp2_approx(fmaf(s[n][e], sl2, -base[e / 2]));
      l[e / 2] += s[n][e];  // lane-partial; the row's 4 lanes are summed at the end
    }
}

template <int D>
__device__ __forceinline__ void rescale(float (&o)[D / 8][4], const float (&corr)[2]) {
#pragma unroll
  for (int n = 0; n < D / 8; ++n) {
    o[n][0] *= corr[0], o[n][1] *= corr[0];
    o[n][2] *= corr[1], o[n][3] *= corr[1];
  }
}

template <int NT, int D, typename Mask>
__device__ __forceinline__ void softmax_step(float (&s)[NT / 8][4], float (&m)[2], float (&l)[2],
                                             float (&o)[D / 8][4], int i0, int j0, int lane, const Span &sp,
                                             float sl2) {
  float corr[2];
  online_softmax<NT, Mask>(s, m, l, corr, i0, j0, lane, sp, sl2);
  rescale<D>(o, corr);
}

// Writes this lane's two output rows (i0 and i0 + 8) of o / rowsum and their log-sum-exp.
template <int D>
__device__ __forceinline__ void store_output(bf16 *out, float *lse, const float (&o)[D / 8][4], const float (&m)[2],
                                             const float (&l)[2], int64_t b, int64_t h, int64_t Hq, int i0, int T_,
                                             int lane, float scale) {
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int i = i0 + r * 8;
    float sum = l[r];
    sum += __shfl_xor_sync(0xffffffffu, sum, 1);
    sum += __shfl_xor_sync(0xffffffffu, sum, 2);
    if (i >= T_) continue;
    const float inv = 1.f / sum;
    bf16 *orow = out + ((b * T_ + i) * Hq + h) * D + (lane % 4) * 2;
#pragma unroll
    for (int n = 0; n < D / 8; ++n)
      *reinterpret_cast<uint32_t *>(orow + n * 8) = pack(o[n][2 * r] * inv, o[n][2 * r + 1] * inv);
    if (lane % 4 == 0) lse[(b * Hq + h) * T_ + i] = m[r] * scale + logf(sum);
  }
}

// Writes this lane's two rows (r0 and r0 + 8) of a [B, T, H, D] gradient, times `mul`.
template <int D>
__device__ __forceinline__ void store_rows(bf16 *x, const float (&acc)[D / 8][4], int64_t b, int64_t h, int64_t H,
                                           int r0, int T_, int lane, float mul) {
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int i = r0 + r * 8;
    if (i >= T_) continue;
    bf16 *row = x + ((b * T_ + i) * H + h) * D + (lane % 4) * 2;
#pragma unroll
    for (int n = 0; n < D / 8; ++n)
      *reinterpret_cast<uint32_t *>(row + n * 8) = pack(acc[n][2 * r] * mul, acc[n][2 * r + 1] * mul);
  }
}

// dS = P (dP - Dsum) in place of S, for this lane's rows i0 and i0 + 8 (lse2: log-sum-exp in log2 units)
template <int NT, typename Mask>
__device__ __forceinline__ void score_grads(float (&s)[NT / 8][4], const float (&dp)[NT / 8][4],
                                            const float (&lse2)[2], const float (&dsum)[2], int i0, int j0, int lane,
                                            const Span &sp, float sl2) {
#pragma unroll
  for (int n = 0; n < NT / 8; ++n)
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      float p = exp2_approx(fmaf(s[n][e], sl2, -lse2[e / 2]));
      if (Mask::value && !sp.visible(i0 + (e / 2) * 8, j0 + n * 8 + (lane % 4) * 2 + (e % 2))) p = 0.f;
      s[n][e] = p * (dp[n][e] - dsum[e / 2]);
    }
}

// Pᵀ into s and dSᵀ into dp for this lane's keys jr and jr + 8 against NT queries from i0 (lse
// and dsum per query, as the forward and the dsum kernel wrote them)
template <int NT, typename Mask>
__device__ __forceinline__ void transposed_grads(float (&s)[NT / 8][4], float (&dp)[NT / 8][4], const float *lse,
                                                 const float *dsum, int i0, int jr, int lane, const Span &sp,
                                                 float sl2) {
#pragma unroll
  for (int n = 0; n < NT / 8; ++n) {
    const int c = n * 8 + (lane % 4) * 2;
    const float2 l = *reinterpret_cast<const float2 *>(lse + c), d2 = *reinterpret_cast<const float2 *>(dsum + c);
    const float lse2[2] = {l.x * LOG2E, l.y * LOG2E};
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      float p = exp2_approx(fmaf(s[n][e], sl2, -lse2[e % 2]));
      if (Mask::value && !sp.visible(i0 + c + (e % 2), jr + (e / 2) * 8)) p = 0.f;
      s[n][e] = p;
      dp[n][e] = p * (dp[n][e] - (e % 2 ? d2.y : d2.x));
    }
  }
}

// positions fit in int (sequences are far below 2^31); a window as long as the sequence is no window
inline int window_of(int64_t T_, int64_t window) { return window <= 0 || window >= T_ ? 0 : (int)window; }

// The kernels' Span of a call: the batch's sequence starts and ends (lk_ptr 0: one sequence a row).
inline Span span_of(int64_t T_, int64_t window, lk_ptr seq_start, lk_ptr seq_end) {
  return {(int)T_, window_of(T_, window), seq_start ? at<int32_t>(seq_start) : nullptr, seq_end ? at<int32_t>(seq_end) : nullptr};
}

template <typename K>
int configure(K kernel, size_t bytes, const char *op) {
  return cuda_check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes), op);
}

}  // namespace attn
}  // namespace lk
