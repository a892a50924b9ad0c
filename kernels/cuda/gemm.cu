// CUDA backend: GEMMs through cuBLASLt (bf16 or fp32 inputs, fp32 accumulation, optional fused
// bias epilogue), and the linear layer built on them.
#include <cublasLt.h>

#include <algorithm>
#include <map>
#include <tuple>

#include "common.cuh"

namespace lk {
namespace {

constexpr size_t WORKSPACE = 64ull << 20;

cudaDataType_t cuda_type(int dt) { return dt == LK_BF16 ? CUDA_R_16BF : CUDA_R_32F; }

#define LT_CHECK(expr, what)                                                                                   \
  do {                                                                                                         \
    cublasStatus_t s_ = (expr);                                                                                \
    if (s_ != CUBLAS_STATUS_SUCCESS) return fail(LK_ERR_DEVICE, "gemm: %s failed (cublas status %d)", what, (int)s_); \
  } while (0)

// The descriptors and algorithm of one GEMM shape, built once: a decode step makes dozens of small
// GEMMs, where rebuilding them would cost more host time than the GPU spends.
struct Plan {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulAlgo_t algo;
};

using Key = std::tuple<bool, bool, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int, int, bool, bool>;
std::map<Key, Plan> plans;
cublasLtHandle_t lt = nullptr;

cublasLtHandle_t lt_handle() { return lt; }

}  // namespace

int gemm_init() {
  if (cublasLtCreate(&lt) != CUBLAS_STATUS_SUCCESS) return fail(LK_ERR_DEVICE, "cuda: cublasLtCreate failed");
  return LK_OK;
}

namespace {

// Descriptors for one shape (left for the process's life once made) and cuBLASLt's best algorithm.
int make_plan(Plan &p, bool ta, bool tb, int64_t M, int64_t N, int64_t K, int64_t lda, int64_t ldb, int64_t ldc,
              int ab_dt, int c_dt, bool bias) {
  LT_CHECK(cublasLtMatmulDescCreate(&p.op, CUBLAS_COMPUTE_32F, CUDA_R_32F), "matmul desc");
  cublasOperation_t opa = tb ? CUBLAS_OP_T : CUBLAS_OP_N, opb = ta ? CUBLAS_OP_T : CUBLAS_OP_N;
  LT_CHECK(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSA, &opa, sizeof opa), "transa");
  LT_CHECK(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSB, &opb, sizeof opb), "transb");
  if (bias) {
    cublasLtEpilogue_t epi = CUBLASLT_EPILOGUE_BIAS;
    LT_CHECK(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi), "epilogue");
    cudaDataType_t bt = cuda_type(ab_dt);
    LT_CHECK(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bt, sizeof bt), "bias type");
  }
  // first operand: op(B)ᵀ is [N,K]; stored column-major as (tb ? K x N : N x K)
  LT_CHECK(cublasLtMatrixLayoutCreate(&p.a, cuda_type(ab_dt), tb ? K : N, tb ? N : K, ldb), "layout a");
  LT_CHECK(cublasLtMatrixLayoutCreate(&p.b, cuda_type(ab_dt), ta ? M : K, ta ? K : M, lda), "layout b");
  LT_CHECK(cublasLtMatrixLayoutCreate(&p.c, cuda_type(c_dt), N, M, ldc), "layout c");
  cublasLtMatmulPreference_t pref = nullptr;
  LT_CHECK(cublasLtMatmulPreferenceCreate(&pref), "preference");
  size_t ws = WORKSPACE;
  cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws);
  cublasLtMatmulHeuristicResult_t h;
  int found = 0;
  const cublasStatus_t s = cublasLtMatmulAlgoGetHeuristic(lt_handle(), p.op, p.a, p.b, p.c, p.c, pref, 1, &h, &found);
  cublasLtMatmulPreferenceDestroy(pref);
  LT_CHECK(s, "heuristic");
  if (found == 0)
    return fail(LK_ERR_UNSUPPORTED, "gemm: cuBLASLt has no algorithm for M=%ld N=%ld K=%ld dtypes %d/%d", (long)M,
                (long)N, (long)K, ab_dt, c_dt);
  p.algo = h.algo;
  return LK_OK;
}

}  // namespace

// Row-major C[M,N] = alpha op(A) op(B) + beta C is column-major Cᵀ[N,M] = op(B)ᵀ op(A)ᵀ: pass B as
// cuBLAS's first operand and A as its second, swapping M and N.
int gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const void *A, int64_t lda, const void *B,
         int64_t ldb, float beta, void *C, int64_t ldc, int ab_dt, int c_dt, const void *bias) {
  if (M == 0 || N == 0) return LK_OK;
  LK_REQUIRE(ab_dt == LK_F32 || ab_dt == LK_BF16, "gemm: input dtype %d is not fp32 or bf16", ab_dt);
  LK_REQUIRE(c_dt == LK_F32 || c_dt == ab_dt, "gemm: output dtype %d with input dtype %d is not supported", c_dt, ab_dt);
  // y = x·wᵀ over a few rows (a decode step): one read of the weights beats cuBLASLt's kernels
  if (!ta && tb && alpha == 1.f && beta == 0.f && lda == K && ldb == K && ldc == N && gemv_serves(M, K, ab_dt, A, B))
    return gemv(M, N, K, A, B, C, c_dt, bias);
  void *workspace = scratch(WORKSPACE, SCRATCH_GEMM);
  if (!workspace) return fail(LK_ERR_OOM, "gemm: cannot allocate the cuBLASLt workspace");
  const Key key{ta, tb, M, N, K, lda, ldb, ldc, ab_dt, c_dt, bias != nullptr, beta != 0.f};
  auto it = plans.find(key);
  if (it == plans.end()) {
    Plan p;
    LK_CHECK(make_plan(p, ta, tb, M, N, K, lda, ldb, ldc, ab_dt, c_dt, bias != nullptr));
    it = plans.emplace(key, p).first;
  }
  Plan &p = it->second;
  if (bias) LT_CHECK(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias), "bias");
  LT_CHECK(cublasLtMatmul(lt_handle(), p.op, &alpha, B, p.a, A, p.b, &beta, C, p.c, C, p.c, &p.algo, workspace,
                          WORKSPACE, g_stream),
           "matmul");
  return LK_OK;
}

namespace {

// partial[y][j] = column sums of dy[M,N] over the rows of split y (blockIdx.y)
template <typename T>
__global__ void colsum_kernel(float *partial, const T *dy, int64_t M, int64_t N, int64_t rows_per) {
  const int64_t j = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (j >= N) return;
  const int64_t r0 = blockIdx.y * rows_per, r1 = min(M, r0 + rows_per);
  float s = 0.f;
  for (int64_t i = r0; i < r1; ++i) s += ld(dy, i * N + j);
  partial[blockIdx.y * N + j] = s;
}

}  // namespace
}  // namespace lk

using namespace lk;

extern "C" {

int lk_gemm(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha, lk_ptr A, int64_t lda, lk_ptr B,
            int64_t ldb, float beta, lk_ptr C, int64_t ldc, int ab_dt, int c_dt) {
  return gemm(trans_a, trans_b, M, N, K, alpha, at<void>(A), lda, at<void>(B), ldb, beta, at<void>(C), ldc, ab_dt, c_dt);
}

int lk_linear_fwd(lk_ptr y, lk_ptr x, lk_ptr w, lk_ptr b, int64_t M, int64_t K, int64_t N, int dt) {
  return gemm(false, true, M, N, K, 1.f, at<void>(x), K, at<void>(w), K, 0.f, at<void>(y), N, dt, dt,
              b ? at<void>(b) : nullptr);
}

int lk_linear_bwd(lk_ptr dx, lk_ptr dw, lk_ptr db, lk_ptr dy, lk_ptr x, lk_ptr w, int64_t M, int64_t K, int64_t N,
                  int dt) {
  if (dx) LK_CHECK(gemm(false, false, M, K, N, 1.f, at<void>(dy), N, at<void>(w), K, 0.f, at<void>(dx), K, dt, dt));
  if (dw) LK_CHECK(gemm(true, false, N, K, M, 1.f, at<void>(dy), N, at<void>(x), K, 1.f, at<void>(dw), K, dt, LK_F32));
  if (db) {
    const int64_t splits = std::min<int64_t>(64, (M + 255) / 256);
    dim3 grid((unsigned)((N + 255) / 256), (unsigned)splits);
    float *sums = partial_sums(splits * N);
    if (!sums) return fail(LK_ERR_OOM, "linear_bwd: scratch allocation failed");
    LK_DISPATCH(dt, "linear_bwd",
                colsum_kernel<T><<<grid, 256, 0, g_stream>>>(sums, at<T>(dy), M, N, (M + splits - 1) / splits));
    LK_CHECK(launch_check("linear_bwd"));
    return add_partials(at<float>(db), sums, splits, N);
  }
  return LK_OK;
}

}  // extern "C"
