// Decode attention's arithmetic, shared by attn_decode (attention.cu) and the one-kernel decode
// step (decode_step.cu), so that the two give the same bits: one warp's walk over its keys, and
// the merges of partial results (a block's warps, then a row's key splits).
#pragma once

#include "common.cuh"

namespace lk {

constexpr int DECODE_KEYS_IN_FLIGHT = 4;

// COHERENT reads through L2 only: the decode step reads keys that other blocks of the same
// kernel appended, which a line left in L1 would hide.
template <bool COHERENT, typename T>
__device__ __forceinline__ float ld_cache(const T *p, int64_t i) {
  if constexpr (COHERENT) return __bfloat162float(__ldcg(p + i));
  else return ld(p, i);
}

// One warp's (max, sum, acc) over keys g0, g0 + 1, ... below j1, DECODE_KEYS_IN_FLIGHT at a time,
// its next group 4 groups on (the block's four warps take the groups in turn); lanes split the
// head dim. The warp loads its keys' and values' rows before it reduces any score, so their
// latencies overlap. The group's first key is always visible, so the running max is finite
// after the first group.
template <typename T, int DPL, bool COHERENT>
__device__ __forceinline__ void decode_keys(float (&acc)[DPL], float &m, float &lsum, const T *qrow, const T *kc,
                                            const T *vc, int64_t s, int64_t kvh, int64_t Tmax, int64_t Hkv, int64_t D,
                                            float scale, int64_t g0, int64_t j1, int lane) {
  constexpr int U = DECODE_KEYS_IN_FLIGHT;
  float qr[DPL];
#pragma unroll
  for (int t = 0; t < DPL; ++t) {
    const int64_t d = t * 32 + lane;
    qr[t] = d < D ? ld_cache<COHERENT>(qrow, d) * scale : 0.f;
    acc[t] = 0.f;
  }
  m = -INFINITY, lsum = 0.f;
  for (int64_t g = g0; g < j1; g += 4 * U) {
    float kr[U][DPL], vr[U][DPL], sc[U];
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const bool ok = g + u < j1;
      const int64_t base = ((s * Tmax + g + u) * Hkv + kvh) * D;
#pragma unroll
      for (int t = 0; t < DPL; ++t) {
        const bool in = ok && t * 32 + lane < D;
        kr[u][t] = in ? ld_cache<COHERENT>(kc, base + t * 32 + lane) : 0.f;
        vr[u][t] = in ? ld_cache<COHERENT>(vc, base + t * 32 + lane) : 0.f;
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
}

// A merge of n partial results (max m_i, sum l_i, accumulator o_i), each weighted by
// exp(m_i - M); a partial that saw no key (m_i = -inf) adds nothing. The same expressions merge a
// block's warps and a row's splits, in either kernel.
__device__ __forceinline__ float merged_sum(float z, float m, float l, float M) {
  return z + (m == -INFINITY ? 0.f : l * __expf(m - M));
}
__device__ __forceinline__ float merged_acc(float o, float m, float acc, float M) {
  if (m != -INFINITY) o += acc * __expf(m - M);
  return o;
}

}  // namespace lk
