// CPU backend: causal attention with online softmax over key blocks (flash-style: the T x T
// score matrix never exists), its backward from the saved log-sum-exp, and KV-cache decode.
#include <algorithm>
#include <cmath>
#include <vector>

#include "common.h"

using namespace lk;

namespace {

constexpr int64_t KB = 64;  // keys per block

inline float dot(const float *a, const float *b, int64_t n) {
  float s = 0.f;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

// Online softmax of one query row over keys [lo, hi], accumulating into acc[D]; returns lse.
// Keys are at k + j*kstride, values at v + j*kstride.
float attend_row(const float *q, const float *k, const float *v, int64_t kstride, int64_t lo, int64_t hi, int64_t D,
                 float scale, float *acc) {
  float m = -INFINITY, l = 0.f, s[KB];
  std::fill(acc, acc + D, 0.f);
  for (int64_t j0 = lo; j0 <= hi; j0 += KB) {
    const int64_t nb = std::min<int64_t>(KB, hi + 1 - j0);
    float bm = -INFINITY;
    for (int64_t t = 0; t < nb; ++t) {
      s[t] = dot(q, k + (j0 + t) * kstride, D) * scale;
      bm = std::max(bm, s[t]);
    }
    const float mn = std::max(m, bm), corr = std::exp(m - mn);
    l *= corr;
#pragma omp simd
    for (int64_t d = 0; d < D; ++d) acc[d] *= corr;
    for (int64_t t = 0; t < nb; ++t) {
      const float p = std::exp(s[t] - mn);
      l += p;
      const float *vr = v + (j0 + t) * kstride;
#pragma omp simd
      for (int64_t d = 0; d < D; ++d) acc[d] += p * vr[d];
    }
    m = mn;
  }
  const float inv = 1.f / l;
  for (int64_t d = 0; d < D; ++d) acc[d] *= inv;
  return m + std::log(l);
}

inline int64_t first_key(int64_t i, int64_t window) { return window > 0 ? std::max<int64_t>(0, i - window + 1) : 0; }

// ... and no key before the query's own sequence in a packed row (start: this row's sequence starts)
inline int64_t first_key(int64_t i, int64_t window, const int32_t *start) {
  return start ? std::max<int64_t>(first_key(i, window), start[i]) : first_key(i, window);
}

}  // namespace

extern "C" {

int lk_attention_fwd(lk_ptr out, lk_ptr lse, lk_ptr q, lk_ptr k, lk_ptr v, int64_t B, int64_t T, int64_t Hq,
                     int64_t Hkv, int64_t D, float scale, int64_t window, lk_ptr seq_start, lk_ptr /*seq_end*/, int dt) {
  LK_CHECK(require_f32(dt, "attention_fwd"));
  LK_REQUIRE(Hkv > 0 && Hq % Hkv == 0, "attention: %ld query heads are not a multiple of %ld kv heads", (long)Hq,
             (long)Hkv);
  const float *Q = at<float>(q), *K = at<float>(k), *V = at<float>(v);
  float *O = at<float>(out), *L = at<float>(lse);
  const int64_t group = Hq / Hkv, ks = Hkv * D;
  const int32_t *starts = seq_start ? at<int32_t>(seq_start) : nullptr;
#pragma omp parallel for collapse(3) schedule(dynamic, 16)
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < Hq; ++h)
      for (int64_t i = 0; i < T; ++i) {
        const float *kb = K + (b * T * Hkv + h / group) * D, *vb = V + (b * T * Hkv + h / group) * D;
        const int64_t lo = first_key(i, window, starts ? starts + b * T : nullptr);
        L[(b * Hq + h) * T + i] = attend_row(Q + ((b * T + i) * Hq + h) * D, kb, vb, ks, lo, i, D, scale,
                                             O + ((b * T + i) * Hq + h) * D);
      }
  return LK_OK;
}

int lk_attention_bwd(lk_ptr dq, lk_ptr dk, lk_ptr dv, lk_ptr dout, lk_ptr out, lk_ptr lse, lk_ptr q, lk_ptr k,
                     lk_ptr v, lk_ptr /*scratch: used by the CUDA backend*/, int64_t B, int64_t T, int64_t Hq,
                     int64_t Hkv, int64_t D, float scale, int64_t window, lk_ptr seq_start, lk_ptr /*seq_end*/,
                     int dt) {
  LK_CHECK(require_f32(dt, "attention_bwd"));
  LK_REQUIRE(Hkv > 0 && Hq % Hkv == 0, "attention: %ld query heads are not a multiple of %ld kv heads", (long)Hq,
             (long)Hkv);
  const float *Q = at<float>(q), *K = at<float>(k), *V = at<float>(v), *O = at<float>(out), *DO = at<float>(dout),
              *L = at<float>(lse);
  float *DQ = at<float>(dq), *DK = at<float>(dk), *DV = at<float>(dv);
  const int64_t group = Hq / Hkv, ks = Hkv * D;
  const int32_t *starts = seq_start ? at<int32_t>(seq_start) : nullptr;
  // one task per (batch, kv head): it owns dk/dv of that head and dq of its query heads, so no races
#pragma omp parallel for collapse(2) schedule(dynamic, 1)
  for (int64_t b = 0; b < B; ++b)
    for (int64_t g = 0; g < Hkv; ++g) {
      float *dkb = DK + (b * T * Hkv + g) * D, *dvb = DV + (b * T * Hkv + g) * D;
      const float *kb = K + (b * T * Hkv + g) * D, *vb = V + (b * T * Hkv + g) * D;
      for (int64_t j = 0; j < T; ++j) {
        std::fill(dkb + j * ks, dkb + j * ks + D, 0.f);
        std::fill(dvb + j * ks, dvb + j * ks + D, 0.f);
      }
      for (int64_t h = g * group; h < (g + 1) * group; ++h)
        for (int64_t i = 0; i < T; ++i) {
          const int64_t row = ((b * T + i) * Hq + h) * D;
          const float *qi = Q + row, *doi = DO + row;
          float *dqi = DQ + row;
          const float di = dot(doi, O + row, D), li = L[(b * Hq + h) * T + i];
          std::fill(dqi, dqi + D, 0.f);
          for (int64_t j = first_key(i, window, starts ? starts + b * T : nullptr); j <= i; ++j) {
            const float p = std::exp(dot(qi, kb + j * ks, D) * scale - li);
            const float ds = p * (dot(doi, vb + j * ks, D) - di) * scale;
            const float *kj = kb + j * ks;
            float *dkj = dkb + j * ks, *dvj = dvb + j * ks;
#pragma omp simd
            for (int64_t d = 0; d < D; ++d) {
              dqi[d] += ds * kj[d];
              dkj[d] += ds * qi[d];
              dvj[d] += p * doi[d];
            }
          }
        }
    }
  return LK_OK;
}

int lk_kv_append(lk_ptr kcache, lk_ptr vcache, lk_ptr k, lk_ptr v, lk_ptr slot, lk_ptr pos, int64_t N, int64_t S,
                 int64_t Tmax, int64_t Hkv, int64_t D, int dt) {
  LK_CHECK(require_f32(dt, "kv_append"));
  const int32_t *Sl = at<int32_t>(slot), *Ps = at<int32_t>(pos);
  for (int64_t n = 0; n < N; ++n)
    LK_REQUIRE(Sl[n] < S && (Sl[n] < 0 || (Ps[n] >= 0 && Ps[n] < Tmax)),
               "kv_append: token %ld goes to slot %d position %d, outside [%ld slots, %ld positions]", (long)n, Sl[n],
               Ps[n], (long)S, (long)Tmax);
  const int64_t row = Hkv * D;
  for (int64_t n = 0; n < N; ++n) {
    if (Sl[n] < 0) continue;
    const int64_t to = ((int64_t)Sl[n] * Tmax + Ps[n]) * row;
    std::memcpy(at<float>(kcache) + to, at<float>(k) + n * row, row * sizeof(float));
    std::memcpy(at<float>(vcache) + to, at<float>(v) + n * row, row * sizeof(float));
  }
  return LK_OK;
}

int lk_attention_decode(lk_ptr out, lk_ptr q, lk_ptr kcache, lk_ptr vcache, lk_ptr slot, lk_ptr pos, int64_t B,
                        int64_t Tq, int64_t S, int64_t Tmax, int64_t Hq, int64_t Hkv, int64_t D, float scale,
                        int64_t window, lk_ptr /* workspace: unused here */, int dt) {
  LK_CHECK(require_f32(dt, "attention_decode"));
  LK_REQUIRE(Hkv > 0 && Hq % Hkv == 0, "attention: %ld query heads are not a multiple of %ld kv heads", (long)Hq,
             (long)Hkv);
  const int32_t *Sl = slot ? at<int32_t>(slot) : nullptr, *Ps = at<int32_t>(pos);
  for (int64_t b = 0; b < B; ++b) {
    const int64_t s = Sl ? Sl[b] : b;
    LK_REQUIRE(s < S && (s < 0 || (Ps[b] >= 0 && Ps[b] + Tq <= Tmax)),
               "attention_decode: row %ld reads slot %ld positions %d..%ld, outside [%ld slots, %ld positions]",
               (long)b, (long)s, Ps[b], (long)(Ps[b] + Tq - 1), (long)S, (long)Tmax);
  }
  const float *Q = at<float>(q), *K = at<float>(kcache), *V = at<float>(vcache);
  float *O = at<float>(out);
  const int64_t group = Hq / Hkv, ks = Hkv * D;
#pragma omp parallel for collapse(3) schedule(static)
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < Tq; ++i)
      for (int64_t h = 0; h < Hq; ++h) {
        const int64_t s = Sl ? Sl[b] : b, row = ((b * Tq + i) * Hq + h) * D;
        if (s < 0) {
          std::fill(O + row, O + row + D, 0.f);
          continue;
        }
        const int64_t p = Ps[b] + i, base = (s * Tmax * Hkv + h / group) * D;
        attend_row(Q + row, K + base, V + base, ks, first_key(p, window), p, D, scale, O + row);
      }
  return LK_OK;
}

}  // extern "C"
