// Hopper warpgroup matrix multiply (wgmma, sm_90a) for the attention kernels: shared-memory
// descriptors for 128-byte-swizzled bf16 tiles, the fences around asynchronous products, and the
// m64nNk16 products they use. A warpgroup is 4 consecutive warps; its accumulator holds 64 rows,
// warp w rows 16w..16w+15 in the m16n8 layout repeated over N / 8 n-tiles (see attention_tiles.cuh).
//
// Tiles: a [rows][D] bf16 tile is stored as D / 64 column blocks of [rows][64]; each row of a block
// is 128 bytes whose 16-byte chunks are XOR-swizzled by row % 8 (the hardware's 128-byte swizzle,
// which needs 1024-byte-aligned blocks). One layout serves both operand roles: K-major (k along a
// row: Q, K, V, dO as the right-hand side of a product with D as the reduction) and N-major
// (k down the rows: V, K, Q, dO as B when the reduction runs over keys or queries).
#pragma once

#include "attention_tiles.cuh"

#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define LK_WGMMA_DEVICE 1
#endif

namespace lk {
namespace attn {

__device__ __forceinline__ uint64_t descriptor(uint32_t addr, uint32_t leading_bytes, uint32_t stride_bytes) {
  return (uint64_t)((addr & 0x3FFFF) >> 4) | (uint64_t)(leading_bytes >> 4) << 16 |
         (uint64_t)(stride_bytes >> 4) << 32 | 1ull << 62;  // 1 << 62: 128-byte swizzle
}

// Operand rows row0..row0+63 (A) or all rows (B) of a ROWS-row tile, k columns 16·kk..16·kk+15:
// 8-row groups are 1024 bytes apart; a k step moves 32 bytes within a row, or to the next block.
template <int ROWS>
__device__ __forceinline__ uint64_t k_major(const bf16 *tile, int row0, int kk) {
  return descriptor(smem_addr(tile) + (kk / 4) * ROWS * 128 + row0 * 128 + (kk % 4) * 32, 16, 1024);
}

// The B operand whose k runs down the rows (16·kk..16·kk+15) and n across D: 64-column blocks are
// ROWS·128 bytes apart, 8-row groups 1024.
template <int ROWS>
__device__ __forceinline__ uint64_t n_major(const bf16 *tile, int kk) {
  return descriptor(smem_addr(tile) + kk * 16 * 128, ROWS * 128, 1024);
}

#ifdef LK_WGMMA_DEVICE

__device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
template <int N>
__device__ __forceinline__ void wgmma_wait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}

// Keeps the compiler from moving reads or writes of an accumulator across the asynchronous window.
template <int N>
__device__ __forceinline__ void fence_operand(float (&d)[N][4]) {
#pragma unroll
  for (int n = 0; n < N; ++n)
#pragma unroll
    for (int e = 0; e < 4; ++e) asm volatile("" : "+f"(d[n][e])::"memory");
}

// The accumulator operands of an m64nN product: 4 per n-tile of 8 columns, N / 2 in all.
#define LK_ACC_TILE(n) "+f"(d[n][0]), "+f"(d[n][1]), "+f"(d[n][2]), "+f"(d[n][3])
#define LK_ACC_64 LK_ACC_TILE(0), LK_ACC_TILE(1), LK_ACC_TILE(2), LK_ACC_TILE(3), \
    LK_ACC_TILE(4), LK_ACC_TILE(5), LK_ACC_TILE(6), LK_ACC_TILE(7)
#define LK_ACC_128 LK_ACC_64, LK_ACC_TILE(8), LK_ACC_TILE(9), LK_ACC_TILE(10), LK_ACC_TILE(11), \
    LK_ACC_TILE(12), LK_ACC_TILE(13), LK_ACC_TILE(14), LK_ACC_TILE(15)
#define LK_REGS_10(i) "%" #i "0,%" #i "1,%" #i "2,%" #i "3,%" #i "4,%" #i "5,%" #i "6,%" #i "7,%" #i "8,%" #i "9,"
#define LK_REGS_30 "%0,%1,%2,%3,%4,%5,%6,%7,%8,%9," LK_REGS_10(1) LK_REGS_10(2)
#define LK_REGS_32 LK_REGS_30 "%30,%31"
#define LK_REGS_64 LK_REGS_30 LK_REGS_10(3) LK_REGS_10(4) LK_REGS_10(5) "%60,%61,%62,%63"

// d (m64 x N) = A Bᵀ over 16 k, A and B K-major in shared memory; accumulate = 0 overwrites d.
// The operands after the N / 2 accumulators: %N/2 and +1 the descriptors, +2 the flag.
#define LK_WGMMA_SS(N, REGS, A_DESC, B_DESC, FLAG, ACC)                                          \
  __device__ __forceinline__ void wgmma_ss(float (&d)[N / 8][4], uint64_t a, uint64_t b, int accumulate) { \
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, " FLAG ", 0;\n"                              \
                 "wgmma.mma_async.sync.aligned.m64n" #N "k16.f32.bf16.bf16 {" REGS "}, " A_DESC ", " B_DESC \
                 ", p, 1, 1, 0, 0;\n}\n"                                                         \
                 : ACC                                                                           \
                 : "l"(a), "l"(b), "r"(accumulate));                                             \
  }
// d (m64 x N) += A B, A the fragment of 16 k columns in registers, B n-major in shared memory.
#define LK_WGMMA_RS(N, REGS, A_REGS, B_DESC, FLAG, ACC)                                                   \
  __device__ __forceinline__ void wgmma_rs(float (&d)[N / 8][4], const uint32_t (&a)[4], uint64_t b) {     \
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, " FLAG ", 0;\n"                                      \
                 "wgmma.mma_async.sync.aligned.m64n" #N "k16.f32.bf16.bf16 {" REGS "}, {" A_REGS "}, " B_DESC \
                 ", p, 1, 1, 1;\n}\n"                                                                  \
                 : ACC                                                                                 \
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b), "r"(1));                         \
  }
LK_WGMMA_SS(64, LK_REGS_32, "%32", "%33", "%34", LK_ACC_64)
LK_WGMMA_SS(128, LK_REGS_64, "%64", "%65", "%66", LK_ACC_128)
LK_WGMMA_RS(64, LK_REGS_32, "%32,%33,%34,%35", "%36", "%37", LK_ACC_64)
LK_WGMMA_RS(128, LK_REGS_64, "%64,%65,%66,%67", "%68", "%69", LK_ACC_128)
#undef LK_WGMMA_RS
#undef LK_WGMMA_SS
#undef LK_REGS_64
#undef LK_REGS_32
#undef LK_REGS_30
#undef LK_REGS_10
#undef LK_ACC_128
#undef LK_ACC_64
#undef LK_ACC_TILE
#endif  // LK_WGMMA_DEVICE

}  // namespace attn
}  // namespace lk
