// Cache-blocked SIMD SGEMM in the BLIS layout: B is packed into KC x NR column panels shared by
// all threads, each thread packs its own MC x KC block of A into MR-row panels, and an
// MR x NR register-blocked micro-kernel (GCC vector extensions: AVX-512, AVX2 or whatever the
// target offers) runs over the packed panels.
#include <algorithm>
#include <cstdlib>
#include <type_traits>
#include <vector>

#include "common.h"

namespace lk {
namespace {

#if defined(__AVX512F__)
constexpr int W = 16;
constexpr int MR = 12;
#elif defined(__AVX__)
constexpr int W = 8;
constexpr int MR = 6;
#else
constexpr int W = 4;
constexpr int MR = 6;
#endif
constexpr int NR = 2 * W;
constexpr int64_t KC = 384;
constexpr int64_t MC = MR * 16;
constexpr int64_t NC = NR * 32;

typedef float vf __attribute__((vector_size(W * 4), aligned(W * 4)));
typedef float vfu __attribute__((vector_size(W * 4), aligned(4)));

// element (i, j) of op(X) where op transposes when t is set
inline float elem(const float *X, int64_t ld, bool t, int64_t i, int64_t j) { return t ? X[j * ld + i] : X[i * ld + j]; }

// Packs rows [i0, i0+mc) x cols [p0, p0+kc) of op(A) as MR-row panels, zero-padded.
void pack_a(const float *A, int64_t lda, bool ta, int64_t i0, int64_t mc, int64_t p0, int64_t kc, float *out) {
  for (int64_t ir = 0; ir < mc; ir += MR) {
    int64_t mr = std::min<int64_t>(MR, mc - ir);
    for (int64_t p = 0; p < kc; ++p) {
      for (int64_t i = 0; i < mr; ++i) out[i] = elem(A, lda, ta, i0 + ir + i, p0 + p);
      for (int64_t i = mr; i < MR; ++i) out[i] = 0.f;
      out += MR;
    }
  }
}

// Packs rows [p0, p0+kc) x cols [j0+jr, ...) of op(B) for panel jr as KC x NR, zero-padded.
void pack_b_panel(const float *B, int64_t ldb, bool tb, int64_t p0, int64_t kc, int64_t j0, int64_t nr, float *out) {
  for (int64_t p = 0; p < kc; ++p) {
    if (!tb && nr == NR) {
      std::memcpy(out, B + (p0 + p) * ldb + j0, NR * sizeof(float));
    } else {
      for (int64_t j = 0; j < nr; ++j) out[j] = elem(B, ldb, tb, p0 + p, j0 + j);
      for (int64_t j = nr; j < NR; ++j) out[j] = 0.f;
    }
    out += NR;
  }
}

// C[mr x nr] = (first ? beta * C : C) + alpha * (a panel) @ (b panel)
inline void micro_kernel(int64_t kc, const float *__restrict a, const float *__restrict b, float *C, int64_t ldc,
                         float alpha, float beta, bool first, int64_t mr, int64_t nr) {
  vf acc[MR][2];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = vf{};
  for (int64_t p = 0; p < kc; ++p) {
    vf b0 = *reinterpret_cast<const vf *>(b);
    vf b1 = *reinterpret_cast<const vf *>(b + W);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      acc[i][0] += a[i] * b0;
      acc[i][1] += a[i] * b1;
    }
    a += MR;
    b += NR;
  }
  if (mr == MR && nr == NR) {
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      vfu *c0 = reinterpret_cast<vfu *>(C + i * ldc);
      vfu *c1 = reinterpret_cast<vfu *>(C + i * ldc + W);
      if (!first) {
        *c0 += alpha * acc[i][0];
        *c1 += alpha * acc[i][1];
      } else if (beta == 0.f) {
        *c0 = alpha * acc[i][0];
        *c1 = alpha * acc[i][1];
      } else {
        *c0 = beta * *c0 + alpha * acc[i][0];
        *c1 = beta * *c1 + alpha * acc[i][1];
      }
    }
    return;
  }
  alignas(64) float tile[MR][NR];
  for (int i = 0; i < MR; ++i) {
    *reinterpret_cast<vf *>(&tile[i][0]) = acc[i][0];
    *reinterpret_cast<vf *>(&tile[i][W]) = acc[i][1];
  }
  for (int64_t i = 0; i < mr; ++i)
    for (int64_t j = 0; j < nr; ++j) {
      float &c = C[i * ldc + j];
      float base = !first ? c : (beta == 0.f ? 0.f : beta * c);
      c = base + alpha * tile[i][j];
    }
}

float *aligned_floats(size_t n) { return static_cast<float *>(std::aligned_alloc(64, ((n * 4 + 63) / 64) * 64)); }

// One step of the micro-kernel's sums: fused where the target has FMA, as the compiler contracts
// the vector code there (it leaves this scalar loop uncontracted unless told).
inline float madd(float a, float b, float acc) {
#if defined(__FMA__)
  return __builtin_fmaf(a, b, acc);
#else
  return acc + a * b;
#endif
}

// Rows at most: a decode step's products (a few rows against a [N,K] weight) skip the packing.
constexpr int64_t GEMV_MAX_ROWS = 4;
// Output columns a task computes: as many multiply-add chains as keep the FMA units busy.
constexpr int64_t GEMV_COLS = 8;

// acc[j] = Σ a[p]·b[j·ldb + p] over p in [p0, p1), in order, for j < cols: a constant for a whole
// tile, so that its chains unroll.
template <typename Cols>
inline void column_sums(const float *a, const float *b, int64_t ldb, int64_t p0, int64_t p1, Cols cols, float *acc) {
  for (int64_t p = p0; p < p1; ++p)
#pragma GCC unroll 8
    for (int64_t j = 0; j < cols; ++j) acc[j] = madd(a[p], b[j * ldb + p], acc[j]);
}

// C[M,N] = A[M,K] · B[N,K]ᵀ (+ C when beta is 1) for M <= GEMV_MAX_ROWS, each weight row read
// once, in place. The arithmetic is the micro-kernel's, element by element: fused multiply-adds in
// k order within each KC block, the blocks added in turn. So a row's result has the same bits on
// this path as on the packed one, and a sequence decoded alone matches one decoded in a batch.
void gemv_t(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
            float *C, int64_t ldc) {
#pragma omp parallel for schedule(static)
  for (int64_t j0 = 0; j0 < N; j0 += GEMV_COLS) {
    const int64_t nj = std::min<int64_t>(GEMV_COLS, N - j0);
    const float *b = B + j0 * ldb;
    for (int64_t p0 = 0; p0 < K; p0 += KC) {
      const int64_t p1 = std::min<int64_t>(K, p0 + KC);
      for (int64_t i = 0; i < M; ++i) {
        const float *a = A + i * lda;
        float acc[GEMV_COLS] = {};
        if (nj == GEMV_COLS) column_sums(a, b, ldb, p0, p1, std::integral_constant<int64_t, GEMV_COLS>{}, acc);
        else column_sums(a, b, ldb, p0, p1, nj, acc);
        float *c = C + i * ldc + j0;
        for (int64_t j = 0; j < nj; ++j) c[j] = p0 > 0 || beta != 0.f ? c[j] + acc[j] : acc[j];
      }
    }
  }
}

}  // namespace

void sgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
           const float *B, int64_t ldb, float beta, float *C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  if (!ta && tb && M <= GEMV_MAX_ROWS && K > 0 && alpha == 1.f && (beta == 0.f || beta == 1.f))
    return gemv_t(M, N, K, A, lda, B, ldb, beta, C, ldc);
  if (K <= 0) {
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = beta == 0.f ? 0.f : beta * C[i * ldc + j];
    return;
  }
  const int64_t nc_max = std::min<int64_t>(NC, (N + NR - 1) / NR * NR);
  const int64_t kc_max = std::min<int64_t>(KC, K);
  float *bpack = aligned_floats(nc_max * kc_max);
  const int nthreads = omp_get_max_threads();
  std::vector<float *> apacks(nthreads);
  for (auto &p : apacks) p = aligned_floats(MC * kc_max);

#pragma omp parallel num_threads(nthreads)
  {
    float *apack = apacks[omp_get_thread_num()];
    for (int64_t j0 = 0; j0 < N; j0 += NC) {
      const int64_t nc = std::min<int64_t>(NC, N - j0);
      const int64_t npanels = (nc + NR - 1) / NR;
      for (int64_t p0 = 0; p0 < K; p0 += KC) {
        const int64_t kc = std::min<int64_t>(KC, K - p0);
        const bool first = p0 == 0;
#pragma omp for schedule(static)
        for (int64_t jp = 0; jp < npanels; ++jp)
          pack_b_panel(B, ldb, tb, p0, kc, j0 + jp * NR, std::min<int64_t>(NR, nc - jp * NR), bpack + jp * kc * NR);
        // implicit barrier: B is packed
        const int64_t mblocks = (M + MC - 1) / MC;
        // split the panels too when there are fewer row blocks than threads (small M)
        const int64_t jsplit = std::min<int64_t>(npanels, std::max<int64_t>(1, (2 * nthreads + mblocks - 1) / mblocks));
        const int64_t per = (npanels + jsplit - 1) / jsplit;
#pragma omp for schedule(dynamic, 1)
        for (int64_t task = 0; task < mblocks * jsplit; ++task) {
          const int64_t i0 = (task / jsplit) * MC;
          const int64_t mc = std::min<int64_t>(MC, M - i0);
          const int64_t jp0 = (task % jsplit) * per, jp1 = std::min<int64_t>(npanels, jp0 + per);
          if (jp0 >= jp1) continue;
          pack_a(A, lda, ta, i0, mc, p0, kc, apack);
          for (int64_t jp = jp0; jp < jp1; ++jp) {
            const int64_t nr = std::min<int64_t>(NR, nc - jp * NR);
            for (int64_t ir = 0; ir < mc; ir += MR) {
              micro_kernel(kc, apack + ir * kc, bpack + jp * kc * NR, C + (i0 + ir) * ldc + j0 + jp * NR, ldc, alpha,
                           beta, first, std::min<int64_t>(MR, mc - ir), nr);
            }
          }
        }
        // implicit barrier before B is repacked
      }
    }
  }
  std::free(bpack);
  for (auto p : apacks) std::free(p);
}

}  // namespace lk

using namespace lk;

extern "C" int lk_gemm(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha, lk_ptr A, int64_t lda,
                       lk_ptr B, int64_t ldb, float beta, lk_ptr C, int64_t ldc, int ab_dt, int c_dt) {
  LK_CHECK(require_f32(ab_dt, "gemm"));
  LK_CHECK(require_f32(c_dt, "gemm"));
  LK_REQUIRE(M >= 0 && N >= 0 && K >= 0, "gemm: negative size (M=%ld N=%ld K=%ld)", (long)M, (long)N, (long)K);
  LK_REQUIRE(ldc >= N && lda >= (trans_a ? M : K) && ldb >= (trans_b ? K : N), "gemm: leading dimension too small");
  sgemm(trans_a, trans_b, M, N, K, alpha, at<float>(A), lda, at<float>(B), ldb, beta, at<float>(C), ldc);
  return LK_OK;
}

extern "C" int lk_linear_fwd(lk_ptr y, lk_ptr x, lk_ptr w, lk_ptr b, int64_t M, int64_t K, int64_t N, int dt) {
  LK_CHECK(require_f32(dt, "linear_fwd"));
  float *Y = at<float>(y);
  if (b) {
    const float *bias = at<float>(b);
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < M; ++i) std::memcpy(Y + i * N, bias, N * sizeof(float));
  }
  sgemm(false, true, M, N, K, 1.f, at<float>(x), K, at<float>(w), K, b ? 1.f : 0.f, Y, N);
  return LK_OK;
}

extern "C" int lk_linear_bwd(lk_ptr dx, lk_ptr dw, lk_ptr db, lk_ptr dy, lk_ptr x, lk_ptr w, int64_t M, int64_t K,
                             int64_t N, int dt) {
  LK_CHECK(require_f32(dt, "linear_bwd"));
  const float *DY = at<float>(dy);
  if (dx) sgemm(false, false, M, K, N, 1.f, DY, N, at<float>(w), K, 0.f, at<float>(dx), K);
  if (dw) sgemm(true, false, N, K, M, 1.f, DY, N, at<float>(x), K, 1.f, at<float>(dw), K);
  if (db) {
    float *DB = at<float>(db);
#pragma omp parallel for schedule(static)
    for (int64_t j = 0; j < N; ++j) {
      float s = 0.f;
      for (int64_t i = 0; i < M; ++i) s += DY[i * N + j];
      DB[j] += s;
    }
  }
  return LK_OK;
}
