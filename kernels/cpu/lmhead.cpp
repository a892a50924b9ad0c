// CPU backend: LM head fused with softmax cross-entropy, chunked over the vocabulary.
// Pass 1 streams logits chunk by chunk into a running (max, sum-exp) per row; pass 2 recomputes
// each chunk, turns it into dlogits and feeds both gradient GEMMs before moving on, so at most
// N x chunk logits exist at a time.
#include <cmath>

#include "common.h"

using namespace lk;

extern "C" int lk_lmhead_ce(lk_ptr losses, lk_ptr dh, lk_ptr dw, lk_ptr h, lk_ptr w, lk_ptr targets, lk_ptr weights,
                            int64_t N, int64_t C, int64_t V, int64_t chunk, float grad_scale, lk_ptr workspace, int dt) {
  LK_CHECK(require_f32(dt, "lmhead_ce"));
  LK_REQUIRE(chunk > 0, "lmhead_ce: chunk must be positive");
  LK_REQUIRE(dh || !dw, "lmhead_ce: dw needs dh");
  const int32_t *Tg = at<int32_t>(targets);
  for (int64_t n = 0; n < N; ++n)
    LK_REQUIRE(Tg[n] < V, "lmhead_ce: target %d at position %ld is outside the vocabulary [0, %ld)", Tg[n], (long)n,
               (long)V);
  const float *H = at<float>(h), *W = at<float>(w);
  float *Ls = at<float>(losses), *logits = at<float>(workspace);
  float *mx = logits + LK_LMHEAD_LOGITS(N, chunk, V) + N * C, *se = mx + N;  // layout of LK_LMHEAD_WORKSPACE
  for (int64_t n = 0; n < N; ++n) mx[n] = -INFINITY, se[n] = 0.f, Ls[n] = 0.f;

  for (int64_t v0 = 0; v0 < V; v0 += chunk) {
    const int64_t vc = std::min<int64_t>(chunk, V - v0);
    sgemm(false, true, N, vc, C, 1.f, H, C, W + v0 * C, C, 0.f, logits, vc);
#pragma omp parallel for schedule(static)
    for (int64_t n = 0; n < N; ++n) {
      const float *row = logits + n * vc;
      float m = mx[n];
      for (int64_t j = 0; j < vc; ++j) m = std::fmax(m, row[j]);
      float s = se[n] * std::exp(mx[n] - m);
      for (int64_t j = 0; j < vc; ++j) s += std::exp(row[j] - m);
      mx[n] = m, se[n] = s;
      if (Tg[n] >= v0 && Tg[n] < v0 + vc) Ls[n] = row[Tg[n] - v0];  // target logit, for now
    }
  }
  // se becomes the log-sum-exp; losses = lse - target logit
  for (int64_t n = 0; n < N; ++n) {
    se[n] = mx[n] + std::log(se[n]);
    Ls[n] = Tg[n] < 0 ? 0.f : se[n] - Ls[n];
  }
  if (!dh) return LK_OK;

  float *DH = at<float>(dh), *DW = dw ? at<float>(dw) : nullptr;
  const float *Wt = weights ? at<float>(weights) : nullptr;
  std::memset(DH, 0, N * C * sizeof(float));
  for (int64_t v0 = 0; v0 < V; v0 += chunk) {
    const int64_t vc = std::min<int64_t>(chunk, V - v0);
    sgemm(false, true, N, vc, C, 1.f, H, C, W + v0 * C, C, 0.f, logits, vc);
#pragma omp parallel for schedule(static)
    for (int64_t n = 0; n < N; ++n) {
      float *row = logits + n * vc;
      if (Tg[n] < 0) {
        std::memset(row, 0, vc * sizeof(float));
        continue;
      }
      const float g = Wt ? grad_scale * Wt[n] : grad_scale;
      for (int64_t j = 0; j < vc; ++j) row[j] = std::exp(row[j] - se[n]) * g;
      if (Tg[n] >= v0 && Tg[n] < v0 + vc) row[Tg[n] - v0] -= g;
    }
    sgemm(false, false, N, C, vc, 1.f, logits, vc, W + v0 * C, C, 1.f, DH, C);
    if (DW) sgemm(true, false, vc, C, N, 1.f, logits, vc, H, C, 1.f, DW + v0 * C, C);
  }
  return LK_OK;
}
