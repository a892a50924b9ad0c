// Hopper's tensor memory accelerator (sm_90) for the attention kernels: tensor maps that describe
// the rows of one head of a [B, T, H, D] bf16 tensor (host), and on the device the bulk loads of
// such rows into 128-byte-swizzled tiles, with the mbarriers that say when a tile has landed and
// when its readers are done with it. One thread issues a whole tile, so the threads that multiply
// spend no instructions on addresses, and warpgroups need no block-wide barrier to share a tile.
#pragma once

#include <cuda.h>  // CUtensorMap

#include "attention_tiles.cuh"

namespace lk {
namespace attn {

// A map over x[B, T, H, D] whose box is `rows` rows of one head by 64 columns (128 bytes, the
// swizzle's width; wider heads take one load per 64 columns). Rows past T read as zeros. Returns
// false where the driver offers no tensor-map encoder.
bool head_rows_map(CUtensorMap *map, lk_ptr x, int64_t B, int64_t T_, int64_t H, int64_t D, int rows);
// A map over n floats whose box is `span` consecutive elements (a load starts on a multiple of 4;
// past n reads as zeros).
bool span_map(CUtensorMap *map, const float *x, int64_t n, int span);

__device__ __forceinline__ void mbar_init(uint64_t *bar, int count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(smem_addr(bar)), "r"(count) : "memory");
}
// makes initialized barriers visible to the bulk copies (the async proxy) before a __syncthreads
__device__ __forceinline__ void mbar_init_fence() {
  asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
}
// the issuing thread's arrival, announcing `bytes` of bulk copies that complete the phase
__device__ __forceinline__ void mbar_expect(uint64_t *bar, uint32_t bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(smem_addr(bar)), "r"(bytes) : "memory");
}
__device__ __forceinline__ void mbar_arrive(uint64_t *bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(smem_addr(bar)) : "memory");
}
// waits until the phase with this parity has completed
__device__ __forceinline__ void mbar_wait(uint64_t *bar, int parity) {
  asm volatile(
      "{\n.reg .pred done;\nWAIT:\n"
      "mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n"
      "@!done bra WAIT;\n}\n" ::"r"(smem_addr(bar)),
      "r"(parity)
      : "memory");
}

// rows [r0, r0 + ROWS) of head h, batch b into a ROWS x D swizzled tile (D / 64 column blocks),
// completing `bytes` on bar
template <int D, int ROWS>
__device__ __forceinline__ void load_head_rows(bf16 *dst, const CUtensorMap *map, int64_t b, int64_t h, int r0,
                                               uint64_t *bar) {
#pragma unroll
  for (int c = 0; c < D / 64; ++c)
    asm volatile(
        "cp.async.bulk.tensor.4d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3, %4, %5}], "
        "[%6];\n" ::"r"(smem_addr(dst + c * ROWS * 64)),
        "l"(map), "r"(c * 64), "r"((int)h), "r"(r0), "r"((int)b), "r"(smem_addr(bar))
        : "memory");
}

// `span` floats from element `start` (the map's box) into dst, completing on bar
__device__ __forceinline__ void load_span(float *dst, const CUtensorMap *map, int start, uint64_t *bar) {
  asm volatile(
      "cp.async.bulk.tensor.1d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%2}], [%3];\n" ::"r"(
          smem_addr(dst)),
      "l"(map), "r"(start), "r"(smem_addr(bar))
      : "memory");
}

}  // namespace attn
}  // namespace lk
