// Internal helpers of the CPU backend.
#pragma once

#include <omp.h>

#include <cstdint>
#include <cstring>

#include "../include/lk_errors.h"
#include "../include/lk_shared.h"

namespace lk {

template <typename T>
inline T *at(lk_ptr p) {
  return reinterpret_cast<T *>(static_cast<uintptr_t>(p));
}

// The CPU backend computes in fp32; bf16 exists here only for storage and casts.
inline int require_f32(int dt, const char *op) {
  if (dt == LK_F32) return LK_OK;
  return fail(LK_ERR_UNSUPPORTED, "%s: the CPU backend computes in fp32 only (got dtype %d); cast first", op, dt);
}

// Row-major GEMM used by the fused ops (fp32).
void sgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
           const float *B, int64_t ldb, float beta, float *C, int64_t ldc);

}  // namespace lk
