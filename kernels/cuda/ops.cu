// CUDA backend: elementwise ops, reductions, embedding, RMSNorm, RoPE, SwiGLU, dropout, AdamW.
#include <type_traits>

#include "common.cuh"

using namespace lk;

namespace {

constexpr int TPB = 256;

#define GRID_STRIDE(i, n) for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < (n); i += (int64_t)gridDim.x * blockDim.x)

template <typename D, typename S>
__global__ void cast_kernel(D *dst, const S *src, int64_t n) {
  GRID_STRIDE(i, n) st(dst, i, ld(src, i));
}

template <typename T>
__global__ void fill_kernel(T *x, int64_t n, float v) {
  GRID_STRIDE(i, n) st(x, i, v);
}
__global__ void fill_i32_kernel(int32_t *x, int64_t n, int32_t v) {
  GRID_STRIDE(i, n) x[i] = v;
}

template <typename T>
__global__ void add_kernel(T *out, const T *a, const T *b, int64_t n) {
  GRID_STRIDE(i, n) st(out, i, ld(a, i) + ld(b, i));
}

template <typename T>
__global__ void axpy_kernel(T *y, float alpha, const T *x, int64_t n) {
  GRID_STRIDE(i, n) st(y, i, ld(y, i) + alpha * ld(x, i));
}

template <typename T>
__global__ void scale_kernel(T *x, float alpha, int64_t n) {
  GRID_STRIDE(i, n) st(x, i, ld(x, i) * alpha);
}

template <typename T, bool SQUARE>
__global__ void sum_kernel(float *out, const T *x, int64_t n) {
  __shared__ float buf[32];
  float s = 0.f;
  GRID_STRIDE(i, n) {
    const float v = ld(x, i);
    s += SQUARE ? v * v : v;
  }
  s = block_sum(s, buf);
  if (threadIdx.x == 0) atomicAdd(out, s);
}

template <typename T>
__global__ void embedding_fwd_kernel(T *out, const int32_t *ids, const T *table, int64_t N, int64_t V, int64_t C,
                                     int *bad) {
  const int64_t n = blockIdx.x;
  const int32_t id = ids[n];
  if (id < 0 || id >= V) {
    if (threadIdx.x == 0) atomicCAS(bad, -1, (int)n);
    return;
  }
  for (int64_t c = threadIdx.x; c < C; c += blockDim.x) out[n * C + c] = table[(int64_t)id * C + c];
}

template <typename T>
__global__ void embedding_bwd_kernel(float *dtable, const T *dout, const int32_t *ids, int64_t V, int64_t C) {
  const int64_t n = blockIdx.x;
  const int32_t id = ids[n];
  if (id < 0 || id >= V) return;
  for (int64_t c = threadIdx.x; c < C; c += blockDim.x) atomicAdd(dtable + (int64_t)id * C + c, ld(dout, n * C + c));
}

// one warp per row
template <typename T>
__global__ void rmsnorm_fwd_kernel(T *y, float *rstd, const T *x, const T *w, int64_t N, int64_t C, float eps) {
  const int64_t n = blockIdx.x * (int64_t)(blockDim.x / 32) + threadIdx.x / 32;
  const int lane = threadIdx.x & 31;
  if (n >= N) return;
  const T *xr = x + n * C;
  float ss = 0.f;
  for (int64_t c = lane; c < C; c += 32) {
    const float v = ld(xr, c);
    ss += v * v;
  }
  ss = warp_sum(ss);
  const float r = rsqrtf(ss / C + eps);
  if (lane == 0) rstd[n] = r;
  for (int64_t c = lane; c < C; c += 32) st(y, n * C + c, ld(xr, c) * r * ld(w, c));
}

// warps take rows in turn; each block accumulates dw in shared memory, then adds it atomically
template <typename T>
__global__ void rmsnorm_bwd_kernel(T *dx, float *dw, const T *dy, const T *x, const T *w, const float *rstd, int64_t N,
                                   int64_t C) {
  extern __shared__ float sdw[];
  for (int64_t c = threadIdx.x; c < C; c += blockDim.x) sdw[c] = 0.f;
  __syncthreads();
  const int lane = threadIdx.x & 31, wpb = blockDim.x / 32;
  for (int64_t n = blockIdx.x * (int64_t)wpb + threadIdx.x / 32; n < N; n += (int64_t)gridDim.x * wpb) {
    const T *xr = x + n * C, *g = dy + n * C;
    const float r = rstd[n];
    float dot = 0.f;
    for (int64_t c = lane; c < C; c += 32) dot += ld(g, c) * ld(w, c) * ld(xr, c);
    dot = warp_sum(dot);
    const float k = dot * r * r * r / C;
    for (int64_t c = lane; c < C; c += 32) {
      const float gc = ld(g, c), xc = ld(xr, c);
      st(dx, n * C + c, r * gc * ld(w, c) - xc * k);
      atomicAdd(sdw + c, gc * xc * r);
    }
  }
  __syncthreads();
  for (int64_t c = threadIdx.x; c < C; c += blockDim.x) atomicAdd(dw + c, sdw[c]);
}

template <typename T>
__global__ void rope_kernel(T *out, const T *x, const int32_t *pos, int64_t pos_len, int64_t BT, int64_t H, int64_t D,
                            float base, int64_t logn_len, int inverse) {
  const int64_t half = D / 2, total = BT * H * half;
  GRID_STRIDE(idx, total) {
    const int64_t i = idx % half, row = idx / half, bt = row / H;
    const int64_t p = pos[bt % pos_len];
    const float s = lk_logn_scale(p, logn_len);
    const float ang = (float)p * lk_rope_inv_freq(base, i, D);
    float sn, c;
    sincosf(ang, &sn, &c);
    c *= s;
    sn *= inverse ? -s : s;
    const float a = ld(x, row * D + i), b = ld(x, row * D + i + half);
    st(out, row * D + i, a * c - b * sn);
    st(out, row * D + i + half, b * c + a * sn);
  }
}

template <typename T>
__global__ void swiglu_fwd_kernel(T *out, const T *gate, const T *up, int64_t n) {
  GRID_STRIDE(i, n) {
    const float g = ld(gate, i);
    st(out, i, g / (1.f + expf(-g)) * ld(up, i));
  }
}

template <typename T>
__global__ void swiglu_bwd_kernel(T *dgate, T *dup, const T *dout, const T *gate, const T *up, int64_t n) {
  GRID_STRIDE(i, n) {
    const float g = ld(gate, i), sg = 1.f / (1.f + expf(-g)), d = ld(dout, i);
    st(dup, i, d * g * sg);
    st(dgate, i, d * ld(up, i) * sg * (1.f + g * (1.f - sg)));
  }
}

template <typename T>
__global__ void dropout_kernel(T *out, const T *x, int64_t n, float p, uint64_t seed) {
  const float k = 1.f / (1.f - p);
  GRID_STRIDE(i, n) st(out, i, lk_uniform(seed, (uint64_t)i) >= p ? ld(x, i) * k : 0.f);
}

__global__ void clip_kernel(float *coef, float *norm, const float *sumsq, float max_norm) {
  const float nm = sqrtf(*sumsq);
  *norm = nm;
  *coef = max_norm > 0.f ? fminf(1.f, max_norm / (nm + 1e-6f)) : 1.f;
}

template <typename W>
__global__ void adamw_kernel(float *p, const float *g, float *m, float *v, W *working, int64_t n, float lr, float b1,
                             float b2, float eps, float wd, float bc1, float bc2, const float *gscale) {
  const float gs = gscale ? *gscale : 1.f;
  GRID_STRIDE(i, n) {
    const float gi = g[i] * gs;
    const float mi = b1 * m[i] + (1.f - b1) * gi;
    const float vi = b2 * v[i] + (1.f - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    const float pi = p[i] - lr * ((mi / bc1) / (sqrtf(vi / bc2) + eps) + wd * p[i]);
    p[i] = pi;
    if (working) st(working, i, pi);
  }
}

// Four elements per thread with 16-byte loads: AdamW is purely bandwidth-bound.
template <typename W>
__global__ void adamw4_kernel(float4 *p, const float4 *g, float4 *m, float4 *v, W *working, int64_t n4, float lr,
                              float b1, float b2, float eps, float wd, float bc1, float bc2, const float *gscale) {
  const float gs = gscale ? *gscale : 1.f;
  GRID_STRIDE(i, n4) {
    const float4 gi = g[i];
    float4 pi = p[i], mi = m[i], vi = v[i];
    float *pp = &pi.x, *mp = &mi.x, *vp = &vi.x;
    const float *gp = &gi.x;
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      const float ge = gp[e] * gs;
      mp[e] = b1 * mp[e] + (1.f - b1) * ge;
      vp[e] = b2 * vp[e] + (1.f - b2) * ge * ge;
      pp[e] -= lr * ((mp[e] / bc1) / (sqrtf(vp[e] / bc2) + eps) + wd * pp[e]);
    }
    p[i] = pi;
    m[i] = mi;
    v[i] = vi;
    if (working) {
      if constexpr (std::is_same<W, __nv_bfloat16>::value) {  // one 8-byte store
        __nv_bfloat162 lo = __floats2bfloat162_rn(pp[0], pp[1]), hi = __floats2bfloat162_rn(pp[2], pp[3]);
        reinterpret_cast<uint2 *>(working)[i] =
            make_uint2(*reinterpret_cast<uint32_t *>(&lo), *reinterpret_cast<uint32_t *>(&hi));
      } else {
        reinterpret_cast<float4 *>(working)[i] = pi;
      }
    }
  }
}

int grid(int64_t n) { return blocks_for(n, TPB, (int64_t)g_sm_count * 32); }

}  // namespace

extern "C" {

int lk_fill(lk_ptr x, int64_t n, float value, int dt) {
  if (dt == LK_I32) {
    fill_i32_kernel<<<grid(n), TPB, 0, g_stream>>>(at<int32_t>(x), n, (int32_t)value);
  } else {
    LK_DISPATCH(dt, "fill", fill_kernel<T><<<grid(n), TPB, 0, g_stream>>>(at<T>(x), n, value));
  }
  return launch_check("fill");
}

int lk_cast(lk_ptr dst, int dst_dt, lk_ptr src, int src_dt, int64_t n) {
  if (dst_dt == src_dt) return lk_copy_d2d(dst, src, n * (dst_dt == LK_BF16 ? 2 : 4));
  if (src_dt == LK_F32 && dst_dt == LK_BF16)
    cast_kernel<<<grid(n), TPB, 0, g_stream>>>(at<__nv_bfloat16>(dst), at<float>(src), n);
  else if (src_dt == LK_BF16 && dst_dt == LK_F32)
    cast_kernel<<<grid(n), TPB, 0, g_stream>>>(at<float>(dst), at<__nv_bfloat16>(src), n);
  else
    return fail(LK_ERR_UNSUPPORTED, "cast: dtype %d -> %d is not supported (fp32 <-> bf16 only)", src_dt, dst_dt);
  return launch_check("cast");
}

int lk_add(lk_ptr out, lk_ptr a, lk_ptr b, int64_t n, int dt) {
  LK_DISPATCH(dt, "add", add_kernel<T><<<grid(n), TPB, 0, g_stream>>>(at<T>(out), at<T>(a), at<T>(b), n));
  return launch_check("add");
}

int lk_axpy(lk_ptr y, float alpha, lk_ptr x, int64_t n, int dt) {
  LK_DISPATCH(dt, "axpy", axpy_kernel<T><<<grid(n), TPB, 0, g_stream>>>(at<T>(y), alpha, at<T>(x), n));
  return launch_check("axpy");
}

int lk_scale(lk_ptr x, float alpha, int64_t n, int dt) {
  LK_DISPATCH(dt, "scale", scale_kernel<T><<<grid(n), TPB, 0, g_stream>>>(at<T>(x), alpha, n));
  return launch_check("scale");
}

int lk_sum(lk_ptr out, lk_ptr x, int64_t n, int dt, int accumulate) {
  if (!accumulate) LK_CHECK(lk_memset0(out, 4));
  LK_DISPATCH(dt, "sum", sum_kernel<T, false><<<grid(n), TPB, 0, g_stream>>>(at<float>(out), at<T>(x), n));
  return launch_check("sum");
}

int lk_sumsq(lk_ptr out, lk_ptr x, int64_t n, int dt, int accumulate) {
  if (!accumulate) LK_CHECK(lk_memset0(out, 4));
  LK_DISPATCH(dt, "sumsq", sum_kernel<T, true><<<grid(n), TPB, 0, g_stream>>>(at<float>(out), at<T>(x), n));
  return launch_check("sumsq");
}

int lk_embedding_fwd(lk_ptr out, lk_ptr ids, lk_ptr table, int64_t N, int64_t V, int64_t C, int dt) {
  int *bad = static_cast<int *>(scratch(sizeof(int), 3));
  if (!bad) return fail(LK_ERR_OOM, "embedding: scratch allocation failed");
  LK_CHECK(cuda_check(cudaMemsetAsync(bad, 0xff, sizeof(int), g_stream), "embedding"));
  LK_DISPATCH(dt, "embedding_fwd",
              embedding_fwd_kernel<T><<<(unsigned)N, 128, 0, g_stream>>>(at<T>(out), at<int32_t>(ids), at<T>(table), N, V, C, bad));
  LK_CHECK(launch_check("embedding_fwd"));
  // an out-of-range id is a data error worth a sync: report the position like the CPU backend
  int where = -1;
  LK_CHECK(cuda_check(cudaMemcpyAsync(&where, bad, sizeof(int), cudaMemcpyDeviceToHost, g_stream), "embedding"));
  LK_CHECK(cuda_check(cudaStreamSynchronize(g_stream), "embedding"));
  if (where >= 0) {
    int32_t id = 0;
    cudaMemcpy(&id, at<int32_t>(ids) + where, sizeof id, cudaMemcpyDeviceToHost);
    return fail(LK_ERR_ARG, "embedding: token id %d at position %d is outside the vocabulary [0, %ld)", id, where, (long)V);
  }
  return LK_OK;
}

int lk_embedding_bwd(lk_ptr dtable, lk_ptr dout, lk_ptr ids, int64_t N, int64_t V, int64_t C, int dt) {
  LK_DISPATCH(dt, "embedding_bwd",
              embedding_bwd_kernel<T><<<(unsigned)N, 128, 0, g_stream>>>(at<float>(dtable), at<T>(dout), at<int32_t>(ids), V, C));
  return launch_check("embedding_bwd");
}

int lk_rmsnorm_fwd(lk_ptr y, lk_ptr rstd, lk_ptr x, lk_ptr w, int64_t N, int64_t C, float eps, int dt) {
  LK_DISPATCH(dt, "rmsnorm_fwd",
              rmsnorm_fwd_kernel<T><<<(unsigned)((N + 7) / 8), 256, 0, g_stream>>>(at<T>(y), at<float>(rstd), at<T>(x), at<T>(w), N, C, eps));
  return launch_check("rmsnorm_fwd");
}

int lk_rmsnorm_bwd(lk_ptr dx, lk_ptr dw, lk_ptr dy, lk_ptr x, lk_ptr w, lk_ptr rstd, int64_t N, int64_t C, int dt) {
  LK_REQUIRE(C <= 12288, "rmsnorm_bwd: width %ld exceeds 12288", (long)C);
  const int blocks = (int)std::min<int64_t>((N + 7) / 8, (int64_t)g_sm_count * 2);
  const size_t smem = C * sizeof(float);
  LK_DISPATCH(dt, "rmsnorm_bwd", {
    if (smem > 48 * 1024) cudaFuncSetAttribute(rmsnorm_bwd_kernel<T>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    rmsnorm_bwd_kernel<T><<<blocks, 256, smem, g_stream>>>(at<T>(dx), at<float>(dw), at<T>(dy), at<T>(x), at<T>(w), at<float>(rstd), N, C);
  });
  return launch_check("rmsnorm_bwd");
}

int lk_rope(lk_ptr out, lk_ptr x, lk_ptr pos, int64_t pos_len, int64_t B, int64_t T_, int64_t H, int64_t D, float base,
            int64_t logn_len, int inverse, int dt) {
  LK_REQUIRE(D % 2 == 0, "rope: head dim %ld must be even", (long)D);
  LK_REQUIRE(pos_len == T_ || pos_len == B * T_, "rope: %ld positions for B=%ld T=%ld (need T or B*T)", (long)pos_len,
             (long)B, (long)T_);
  const int64_t n = B * T_ * H * (D / 2);
  LK_DISPATCH(dt, "rope",
              rope_kernel<T><<<grid(n), TPB, 0, g_stream>>>(at<T>(out), at<T>(x), at<int32_t>(pos), pos_len, B * T_, H, D, base, logn_len, inverse));
  return launch_check("rope");
}

int lk_swiglu_fwd(lk_ptr out, lk_ptr gate, lk_ptr up, int64_t n, int dt) {
  LK_DISPATCH(dt, "swiglu_fwd", swiglu_fwd_kernel<T><<<grid(n), TPB, 0, g_stream>>>(at<T>(out), at<T>(gate), at<T>(up), n));
  return launch_check("swiglu_fwd");
}

int lk_swiglu_bwd(lk_ptr dgate, lk_ptr dup, lk_ptr dout, lk_ptr gate, lk_ptr up, int64_t n, int dt) {
  LK_DISPATCH(dt, "swiglu_bwd",
              swiglu_bwd_kernel<T><<<grid(n), TPB, 0, g_stream>>>(at<T>(dgate), at<T>(dup), at<T>(dout), at<T>(gate), at<T>(up), n));
  return launch_check("swiglu_bwd");
}

int lk_dropout_fwd(lk_ptr out, lk_ptr x, int64_t n, float p, uint64_t seed, int dt) {
  LK_REQUIRE(p >= 0.f && p < 1.f, "dropout: p=%g must be in [0, 1)", p);
  LK_DISPATCH(dt, "dropout", dropout_kernel<T><<<grid(n), TPB, 0, g_stream>>>(at<T>(out), at<T>(x), n, p, seed));
  return launch_check("dropout");
}

int lk_dropout_bwd(lk_ptr dx, lk_ptr dout, int64_t n, float p, uint64_t seed, int dt) {
  return lk_dropout_fwd(dx, dout, n, p, seed, dt);
}

int lk_clip_coef(lk_ptr coef, lk_ptr norm, lk_ptr sumsq, float max_norm) {
  clip_kernel<<<1, 1, 0, g_stream>>>(at<float>(coef), at<float>(norm), at<float>(sumsq), max_norm);
  return launch_check("clip_coef");
}

int lk_adamw(lk_ptr master, lk_ptr grad, lk_ptr m, lk_ptr v, lk_ptr working, int working_dt, int64_t n, float lr,
             float beta1, float beta2, float eps, float weight_decay, int64_t step, lk_ptr grad_scale) {
  LK_REQUIRE(step >= 1, "adamw: step %ld must start at 1", (long)step);
  const float bc1 = 1.f - powf(beta1, (float)step), bc2 = 1.f - powf(beta2, (float)step);
  const float *gs = grad_scale ? at<float>(grad_scale) : nullptr;
  LK_REQUIRE(!working || working_dt == LK_F32 || working_dt == LK_BF16, "adamw: working copy dtype %d", working_dt);
  const bool vec = n % 4 == 0 && ((master | grad | m | v) & 15) == 0 && (working & (working_dt == LK_BF16 ? 7 : 15)) == 0;
#define LK_ADAMW(W)                                                                                                   \
  do {                                                                                                                \
    W *wk = working ? at<W>(working) : nullptr;                                                                       \
    if (vec)                                                                                                          \
      adamw4_kernel<W><<<grid(n / 4), TPB, 0, g_stream>>>(at<float4>(master), at<float4>(grad), at<float4>(m),        \
                                                          at<float4>(v), wk, n / 4, lr, beta1, beta2, eps,            \
                                                          weight_decay, bc1, bc2, gs);                                \
    else                                                                                                              \
      adamw_kernel<W><<<grid(n), TPB, 0, g_stream>>>(at<float>(master), at<float>(grad), at<float>(m), at<float>(v),  \
                                                     wk, n, lr, beta1, beta2, eps, weight_decay, bc1, bc2, gs);       \
  } while (0)
  if (working_dt == LK_BF16 && working) LK_ADAMW(__nv_bfloat16);
  else LK_ADAMW(float);
#undef LK_ADAMW
  return launch_check("adamw");
}

}  // extern "C"
