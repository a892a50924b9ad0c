// Deterministic sums across blocks (see common.cuh): the second pass that adds the partial sums
// kernels leave in scratch, in a fixed order. A training step then gives the same gradients bit
// for bit every time it runs, as on the CPU.
#include "common.cuh"

namespace lk {

namespace {

constexpr int THREADS = 256;

// One thread per column when there are many columns: it adds the rows in order.
__global__ void add_columns_kernel(float *dst, const float *partials, int64_t splits, int64_t n) {
  const int64_t j = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (j >= n) return;
  float s = 0.f;
  for (int64_t r = 0; r < splits; ++r) s += partials[r * n + j];
  dst[j] += s;
}

// One block for a single column of many rows: each thread adds a fixed stride of rows in order,
// then the block's fixed reduction tree adds the threads.
__global__ void add_rows_kernel(float *dst, const float *partials, int64_t splits) {
  __shared__ float buf[32];
  float s = 0.f;
  for (int64_t r = threadIdx.x; r < splits; r += blockDim.x) s += partials[r];
  s = block_sum(s, buf);
  if (threadIdx.x == 0) *dst += s;
}

}  // namespace

float *partial_sums(int64_t count) { return static_cast<float *>(scratch((size_t)count * sizeof(float), SCRATCH_REDUCE)); }

int add_partials(float *dst, const float *partials, int64_t splits, int64_t n) {
  if (n == 1)
    add_rows_kernel<<<1, THREADS, 0, g_stream>>>(dst, partials, splits);
  else
    add_columns_kernel<<<blocks_for(n, THREADS), THREADS, 0, g_stream>>>(dst, partials, splits, n);
  return launch_check("add_partials");
}

}  // namespace lk
