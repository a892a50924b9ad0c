// CPU backend: elementwise ops, reductions, embedding, RMSNorm, RoPE, SwiGLU, dropout, AdamW.
#include <cmath>
#include <cstring>
#include <vector>

#include "common.h"

using namespace lk;

namespace {

// Per-thread partial sums combined in thread order: deterministic for a given thread count.
template <typename F>
double reduce_sum(int64_t n, F term) {
  const int nt = omp_get_max_threads();
  std::vector<double> part(nt, 0.0);
#pragma omp parallel num_threads(nt)
  {
    double s = 0.0;
#pragma omp for schedule(static)
    for (int64_t i = 0; i < n; ++i) s += term(i);
    part[omp_get_thread_num()] = s;
  }
  double s = 0.0;
  for (double p : part) s += p;
  return s;
}

// y = x * rstd * w over one row of C; returns rstd. rmsnorm and add_rmsnorm both call this one
// compiled copy (never inlined, so never vectorised differently), which makes their bits agree.
[[gnu::noinline]] float rmsnorm_row(float *yr, const float *xr, const float *Wt, int64_t C, float eps) {
  float ss = 0.f;
#pragma omp simd reduction(+ : ss)
  for (int64_t c = 0; c < C; ++c) ss += xr[c] * xr[c];
  const float r = 1.0f / std::sqrt(ss / C + eps);
#pragma omp simd
  for (int64_t c = 0; c < C; ++c) yr[c] = xr[c] * r * Wt[c];
  return r;
}

}  // namespace

extern "C" {

int lk_fill(lk_ptr x, int64_t n, float value, int dt) {
  if (dt == LK_F32) {
    float *X = at<float>(x);
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) X[i] = value;
  } else if (dt == LK_BF16) {
    uint16_t *X = at<uint16_t>(x), h = lk_f32_to_bf16(value);
    for (int64_t i = 0; i < n; ++i) X[i] = h;
  } else if (dt == LK_I32) {
    int32_t *X = at<int32_t>(x), v = (int32_t)value;
    for (int64_t i = 0; i < n; ++i) X[i] = v;
  } else {
    return fail(LK_ERR_ARG, "fill: unknown dtype %d", dt);
  }
  return LK_OK;
}

int lk_cast(lk_ptr dst, int dst_dt, lk_ptr src, int src_dt, int64_t n) {
  if (dst_dt == src_dt) {
    LK_REQUIRE(dst_dt >= LK_F32 && dst_dt <= LK_I32, "cast: unknown dtype %d", dst_dt);
    std::memmove(at<void>(dst), at<void>(src), n * (dst_dt == LK_BF16 ? 2 : 4));
  } else if (src_dt == LK_F32 && dst_dt == LK_BF16) {
    const float *S = at<float>(src);
    uint16_t *D = at<uint16_t>(dst);
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) D[i] = lk_f32_to_bf16(S[i]);
  } else if (src_dt == LK_BF16 && dst_dt == LK_F32) {
    const uint16_t *S = at<uint16_t>(src);
    float *D = at<float>(dst);
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) D[i] = lk_bf16_to_f32(S[i]);
  } else {
    return fail(LK_ERR_UNSUPPORTED, "cast: dtype %d -> %d is not supported (fp32 <-> bf16 only)", src_dt, dst_dt);
  }
  return LK_OK;
}

int lk_add(lk_ptr out, lk_ptr a, lk_ptr b, int64_t n, int dt) {
  LK_CHECK(require_f32(dt, "add"));
  float *O = at<float>(out);
  const float *A = at<float>(a), *B = at<float>(b);
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) O[i] = A[i] + B[i];
  return LK_OK;
}

int lk_axpy(lk_ptr y, float alpha, lk_ptr x, int64_t n, int dt) {
  LK_CHECK(require_f32(dt, "axpy"));
  float *Y = at<float>(y);
  const float *X = at<float>(x);
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) Y[i] += alpha * X[i];
  return LK_OK;
}

int lk_scale(lk_ptr x, float alpha, int64_t n, int dt) {
  LK_CHECK(require_f32(dt, "scale"));
  float *X = at<float>(x);
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) X[i] *= alpha;
  return LK_OK;
}

int lk_sum(lk_ptr out, lk_ptr x, int64_t n, int dt, int accumulate) {
  LK_CHECK(require_f32(dt, "sum"));
  const float *X = at<float>(x);
  float s = (float)reduce_sum(n, [&](int64_t i) { return (double)X[i]; });
  *at<float>(out) = accumulate ? *at<float>(out) + s : s;
  return LK_OK;
}

int lk_sumsq(lk_ptr out, lk_ptr x, int64_t n, int dt, int accumulate) {
  LK_CHECK(require_f32(dt, "sumsq"));
  const float *X = at<float>(x);
  float s = (float)reduce_sum(n, [&](int64_t i) { return (double)X[i] * X[i]; });
  *at<float>(out) = accumulate ? *at<float>(out) + s : s;
  return LK_OK;
}

// Every id is checked before any is used, so a bad one fails the op with its position.
static int check_ids(const int32_t *I, int64_t N, int64_t V) {
  for (int64_t n = 0; n < N; ++n)
    LK_REQUIRE(I[n] >= 0 && I[n] < V, "embedding: token id %d at position %ld is outside the vocabulary [0, %ld)", I[n],
               (long)n, (long)V);
  return LK_OK;
}

int lk_embedding_fwd(lk_ptr out, lk_ptr ids, lk_ptr table, int64_t N, int64_t V, int64_t C, int dt) {
  LK_CHECK(require_f32(dt, "embedding_fwd"));
  const int32_t *I = at<int32_t>(ids);
  LK_CHECK(check_ids(I, N, V));
  float *O = at<float>(out);
  const float *T = at<float>(table);
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n) std::memcpy(O + n * C, T + (int64_t)I[n] * C, C * sizeof(float));
  return LK_OK;
}

int lk_embedding_bwd(lk_ptr dtable, lk_ptr dout, lk_ptr ids, int64_t N, int64_t V, int64_t C, int dt) {
  LK_CHECK(require_f32(dt, "embedding_bwd"));
  const int32_t *I = at<int32_t>(ids);
  LK_CHECK(check_ids(I, N, V));
  float *DT = at<float>(dtable);
  const float *DO = at<float>(dout);
  // split the channels across threads so repeated ids never race
#pragma omp parallel
  {
    const int nt = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t c0 = C * t / nt, c1 = C * (t + 1) / nt;
    for (int64_t n = 0; n < N; ++n) {
      float *row = DT + (int64_t)I[n] * C;
      const float *g = DO + n * C;
      for (int64_t c = c0; c < c1; ++c) row[c] += g[c];
    }
  }
  return LK_OK;
}

int lk_rmsnorm_fwd(lk_ptr y, lk_ptr rstd, lk_ptr x, lk_ptr w, int64_t N, int64_t C, float eps, int dt) {
  LK_CHECK(require_f32(dt, "rmsnorm_fwd"));
  float *Y = at<float>(y), *R = at<float>(rstd);
  const float *X = at<float>(x), *Wt = at<float>(w);
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n) R[n] = rmsnorm_row(Y + n * C, X + n * C, Wt, C, eps);
  return LK_OK;
}

int lk_add_rmsnorm_fwd(lk_ptr sum, lk_ptr y, lk_ptr rstd, lk_ptr a, lk_ptr b, lk_ptr w, int64_t N, int64_t C,
                       float eps, int dt) {
  LK_CHECK(require_f32(dt, "add_rmsnorm_fwd"));
  float *S = at<float>(sum), *Y = at<float>(y), *R = at<float>(rstd);
  const float *A = at<float>(a), *B = at<float>(b), *Wt = at<float>(w);
  // a row at a time: the norm reads the sum while it is still in cache
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n) {
    float *sr = S + n * C;
    const float *ar = A + n * C, *br = B + n * C;
#pragma omp simd
    for (int64_t c = 0; c < C; ++c) sr[c] = ar[c] + br[c];
    R[n] = rmsnorm_row(Y + n * C, sr, Wt, C, eps);
  }
  return LK_OK;
}

int lk_rmsnorm_bwd(lk_ptr dx, lk_ptr dw, lk_ptr dy, lk_ptr x, lk_ptr w, lk_ptr rstd, int64_t N, int64_t C, int dt) {
  LK_CHECK(require_f32(dt, "rmsnorm_bwd"));
  float *DX = at<float>(dx), *DW = dw ? at<float>(dw) : nullptr;
  const float *DY = at<float>(dy), *X = at<float>(x), *Wt = at<float>(w), *R = at<float>(rstd);
  const int nt = omp_get_max_threads();
  std::vector<float> part((size_t)nt * C, 0.f);
#pragma omp parallel num_threads(nt)
  {
    float *pw = part.data() + (size_t)omp_get_thread_num() * C;
#pragma omp for schedule(static)
    for (int64_t n = 0; n < N; ++n) {
      const float *xr = X + n * C, *g = DY + n * C;
      const float r = R[n];
      // dx = r * (g*w) - x * r^3 * mean(g*w*x)
      float dot = 0.f;
#pragma omp simd reduction(+ : dot)
      for (int64_t c = 0; c < C; ++c) dot += g[c] * Wt[c] * xr[c];
      const float k = dot * r * r * r / C;
      float *dxr = DX + n * C;
#pragma omp simd
      for (int64_t c = 0; c < C; ++c) {
        dxr[c] = r * g[c] * Wt[c] - xr[c] * k;
        pw[c] += g[c] * xr[c] * r;
      }
    }
  }
  if (DW)
    for (int t = 0; t < nt; ++t)
      for (int64_t c = 0; c < C; ++c) DW[c] += part[(size_t)t * C + c];
  return LK_OK;
}

// Rotates the H heads of one token at position p: x to out (in place allowed), each scaled by s.
// lk_rope and lk_rope_append share it, so their bits agree.
static void rotate_token(float *out, const float *x, int64_t H, int64_t D, const float *inv, int64_t p, float s,
                         bool inverse) {
  const int64_t half = D / 2;
  for (int64_t i = 0; i < half; ++i) {
    const float ang = (float)p * inv[i];  // fp32 product, as HF computes t * inv_freq
    const float c = std::cos(ang) * s, sn = (inverse ? -std::sin(ang) : std::sin(ang)) * s;
    for (int64_t h = 0; h < H; ++h) {
      const float a = x[h * D + i], b = x[h * D + i + half];
      out[h * D + i] = a * c - b * sn;
      out[h * D + i + half] = b * c + a * sn;
    }
  }
}

// The inverse frequencies of one token: the shared table, or its own base's in `own`.
static const float *inv_freqs(const std::vector<float> &shared, std::vector<float> &own, const float *bases,
                              int64_t at_, int64_t D) {
  if (!bases) return shared.data();
  for (int64_t i = 0; i < D / 2; ++i) own[i] = lk_rope_inv_freq(bases[at_], i, D);
  return own.data();
}

static std::vector<float> shared_inv_freqs(float base, int64_t D) {
  std::vector<float> table(D / 2);
  for (int64_t i = 0; i < D / 2; ++i) table[i] = lk_rope_inv_freq(base, i, D);
  return table;
}

int lk_rope(lk_ptr out, lk_ptr x, lk_ptr pos, int64_t pos_len, int64_t B, int64_t T, int64_t H, int64_t D, float base,
            lk_ptr bases, int64_t logn_len, int inverse, int dt) {
  LK_CHECK(require_f32(dt, "rope"));
  LK_REQUIRE(D % 2 == 0, "rope: head dim %ld must be even", (long)D);
  LK_REQUIRE(pos_len == T || pos_len == B * T, "rope: %ld positions for B=%ld T=%ld (need T or B*T)", (long)pos_len,
             (long)B, (long)T);
  const float *Bases = bases ? at<float>(bases) : nullptr;
  const std::vector<float> shared = shared_inv_freqs(base, D);
  const int32_t *P = at<int32_t>(pos);
  const float *X = at<float>(x);
  float *O = at<float>(out);
#pragma omp parallel
  {
    std::vector<float> own(Bases ? D / 2 : 0);
#pragma omp for schedule(static)
    for (int64_t bt = 0; bt < B * T; ++bt) {
      const int64_t p = P[bt % pos_len];
      rotate_token(O + bt * H * D, X + bt * H * D, H, D, inv_freqs(shared, own, Bases, bt % pos_len, D), p,
                   lk_logn_scale(p, logn_len), inverse != 0);
    }
  }
  return LK_OK;
}

int lk_rope_append(lk_ptr q, lk_ptr kcache, lk_ptr vcache, lk_ptr qkv, lk_ptr pos, lk_ptr slot, int64_t N, int64_t S,
                   int64_t Tmax, int64_t Hq, int64_t Hkv, int64_t D, float base, lk_ptr bases, int64_t logn_len, int dt) {
  LK_CHECK(require_f32(dt, "rope_append"));
  LK_REQUIRE(D % 2 == 0, "rope_append: head dim %ld must be even", (long)D);
  const int32_t *Sl = at<int32_t>(slot), *P = at<int32_t>(pos);
  for (int64_t n = 0; n < N; ++n)
    LK_REQUIRE(Sl[n] < S && (Sl[n] < 0 || (P[n] >= 0 && P[n] < Tmax)),
               "rope_append: token %ld goes to slot %d position %d, outside [%ld slots, %ld positions]", (long)n, Sl[n],
               P[n], (long)S, (long)Tmax);
  const float *Bases = bases ? at<float>(bases) : nullptr;
  const std::vector<float> shared = shared_inv_freqs(base, D);
  std::vector<float> own(Bases ? D / 2 : 0);
  const int64_t width = (Hq + 2 * Hkv) * D, kv = Hkv * D;
  for (int64_t n = 0; n < N; ++n) {
    const int64_t p = P[n];
    const float *row = at<float>(qkv) + n * width, *inv = inv_freqs(shared, own, Bases, n, D);
    rotate_token(at<float>(q) + n * Hq * D, row, Hq, D, inv, p, lk_logn_scale(p, logn_len), false);
    if (Sl[n] < 0) continue;
    const int64_t to = ((int64_t)Sl[n] * Tmax + p) * kv;
    rotate_token(at<float>(kcache) + to, row + Hq * D, Hkv, D, inv, p, lk_logn_scale(p, 0), false);
    std::memcpy(at<float>(vcache) + to, row + (Hq + Hkv) * D, kv * sizeof(float));
  }
  return LK_OK;
}

int lk_swiglu_fwd(lk_ptr out, lk_ptr gate, lk_ptr up, int64_t n, int dt) {
  LK_CHECK(require_f32(dt, "swiglu_fwd"));
  float *O = at<float>(out);
  const float *G = at<float>(gate), *U = at<float>(up);
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) O[i] = G[i] / (1.f + std::exp(-G[i])) * U[i];
  return LK_OK;
}

int lk_swiglu_joined_fwd(lk_ptr out, lk_ptr gate_up, int64_t rows, int64_t F, int dt) {
  LK_CHECK(require_f32(dt, "swiglu_joined_fwd"));
  for (int64_t r = 0; r < rows; ++r) LK_CHECK(lk_swiglu_fwd(out + r * F * 4, gate_up + 2 * r * F * 4, gate_up + (2 * r + 1) * F * 4, F, dt));
  return LK_OK;
}

int lk_swiglu_bwd(lk_ptr dgate, lk_ptr dup, lk_ptr dout, lk_ptr gate, lk_ptr up, int64_t n, int dt) {
  LK_CHECK(require_f32(dt, "swiglu_bwd"));
  float *DG = at<float>(dgate), *DU = at<float>(dup);
  const float *DO = at<float>(dout), *G = at<float>(gate), *U = at<float>(up);
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const float g = G[i], sg = 1.f / (1.f + std::exp(-g)), d = DO[i];
    DU[i] = d * g * sg;
    DG[i] = d * U[i] * sg * (1.f + g * (1.f - sg));
  }
  return LK_OK;
}

int lk_dropout_fwd(lk_ptr out, lk_ptr x, int64_t n, float p, uint64_t seed, int dt) {
  LK_CHECK(require_f32(dt, "dropout_fwd"));
  LK_REQUIRE(p >= 0.f && p < 1.f, "dropout: p=%g must be in [0, 1)", p);
  float *O = at<float>(out);
  const float *X = at<float>(x);
  const float k = 1.f / (1.f - p);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) O[i] = lk_uniform(seed, i) >= p ? X[i] * k : 0.f;
  return LK_OK;
}

int lk_dropout_bwd(lk_ptr dx, lk_ptr dout, int64_t n, float p, uint64_t seed, int dt) {
  return lk_dropout_fwd(dx, dout, n, p, seed, dt);  // same mask and scale
}

int lk_clip_coef(lk_ptr coef, lk_ptr norm, lk_ptr sumsq, float max_norm) {
  const float nm = std::sqrt(*at<float>(sumsq));
  *at<float>(norm) = nm;
  *at<float>(coef) = max_norm > 0.f ? std::fmin(1.f, max_norm / (nm + 1e-6f)) : 1.f;
  return LK_OK;
}

int lk_adamw(lk_ptr master, lk_ptr grad, lk_ptr m, lk_ptr v, lk_ptr working, int working_dt, int64_t n, float lr,
             float beta1, float beta2, float eps, float weight_decay, int64_t step, lk_ptr grad_scale) {
  LK_REQUIRE(step >= 1, "adamw: step %ld must start at 1", (long)step);
  LK_REQUIRE(!working || working_dt == LK_F32 || working_dt == LK_BF16, "adamw: working copy dtype %d", working_dt);
  float *Pm = at<float>(master), *M = at<float>(m), *Vv = at<float>(v);
  const float *G = at<float>(grad);
  const float gs = grad_scale ? *at<float>(grad_scale) : 1.f;
  const float bc1 = 1.f - std::pow(beta1, (float)step), bc2 = 1.f - std::pow(beta2, (float)step);
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const float g = G[i] * gs;
    const float mi = beta1 * M[i] + (1.f - beta1) * g;
    const float vi = beta2 * Vv[i] + (1.f - beta2) * g * g;
    M[i] = mi;
    Vv[i] = vi;
    Pm[i] -= lr * ((mi / bc1) / (std::sqrt(vi / bc2) + eps) + weight_decay * Pm[i]);
  }
  if (working) return lk_cast(working, working_dt, master, LK_F32, n);
  return LK_OK;
}

}  // extern "C"
