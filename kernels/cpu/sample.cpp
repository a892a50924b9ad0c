// CPU backend: token sampling with per-row settings (repetition penalty, temperature, top-k,
// top-p, Gumbel-max draw), the reference for the CUDA kernel: the semantics are loom_kernels.h's.
#include <algorithm>
#include <cmath>
#include <vector>

#include "common.h"

using namespace lk;

namespace {

// The kept set after top-k and top-p over v (already scaled by the temperature).
std::vector<char> kept_tokens(const std::vector<float> &v, int64_t top_k, float top_p) {
  const int64_t V = (int64_t)v.size();
  std::vector<char> keep(V, 1);
  if (top_k > 0 && top_k < V) {
    std::vector<float> s(v);
    std::nth_element(s.begin(), s.begin() + (top_k - 1), s.end(), std::greater<float>());
    const float kth = s[top_k - 1];
    for (int64_t i = 0; i < V; ++i) keep[i] = v[i] >= kth;
  }
  if (top_p >= 1.f) return keep;
  std::vector<float> p(V, 0.f);
  float total = 0.f, largest = 0.f;
  for (int64_t i = 0; i < V; ++i)
    if (keep[i]) {
      total += (p[i] = expf(v[i]));
      largest = std::max(largest, p[i]);
    }
  // Only tokens at or above a threshold whose set already holds the nucleus's mass can be in the
  // nucleus, so lower the threshold from the largest probability until that set is enough (with a
  // margin over summation-order rounding) and sort that set alone: a peaked row sorts a handful.
  const double target = (double)top_p * total;
  float floor_p = largest;
  for (;;) {
    double mass = 0.0;
    for (int64_t i = 0; i < V; ++i)
      if (keep[i] && p[i] >= floor_p) mass += p[i];
    if (mass >= target * (1.0 + 1e-6) + 1e-30 || floor_p == 0.f) break;
    floor_p = floor_p > 1e-30f ? floor_p * 0.25f : 0.f;
  }
  // (probability, id) pairs sort in place, without an indirection per comparison
  std::vector<std::pair<float, int32_t>> order;
  for (int64_t i = 0; i < V; ++i) {
    if (!keep[i]) continue;
    if (p[i] >= floor_p) order.emplace_back(p[i], (int32_t)i);
    else keep[i] = 0;
  }
  std::sort(order.begin(), order.end(), [](const auto &a, const auto &c) { return a.first > c.first; });
  double before = 0.0;  // mass of the strictly more probable tokens
  for (size_t s = 0; s < order.size();) {
    size_t e = s;
    double group = 0.0;
    while (e < order.size() && order[e].first == order[s].first) group += order[e++].first;
    const bool k = before < target;
    for (size_t t = s; t < e; ++t) keep[order[t].second] = k;
    before += group;
    s = e;
  }
  return keep;
}

int32_t draw_row(const float *orig, const lk_sample_row &r, const int32_t *hist, int64_t V) {
  std::vector<float> x(orig, orig + V);
  for (int32_t i = 0; hist && i < r.history_len; ++i) {
    const int32_t t = hist[i];
    if (t >= 0 && t < V) x[t] = orig[t] > 0.f ? orig[t] / r.repetition_penalty : orig[t] * r.repetition_penalty;
  }
  const float xm = *std::max_element(x.begin(), x.end());
  if (r.temperature <= 0.f) return (int32_t)(std::find(x.begin(), x.end(), xm) - x.begin());
  for (float &e : x) e = (e - xm) / r.temperature;
  const std::vector<char> keep = kept_tokens(x, r.top_k, r.top_p);
  const uint64_t stream = lk_sample_stream(r.seed, r.counter);
  int32_t pick = -1;
  float best = -INFINITY;
  for (int64_t i = 0; i < V; ++i) {
    if (!keep[i]) continue;
    const float g = x[i] + lk_gumbel(stream, (uint64_t)i);
    if (pick < 0 || g > best) best = g, pick = (int32_t)i;
  }
  return pick;
}

}  // namespace

extern "C" int lk_sample(lk_ptr out, lk_ptr logprobs, lk_ptr logits, lk_ptr rows, lk_ptr history, int64_t B, int64_t V,
                         int64_t P) {
  const lk_sample_row *R = at<lk_sample_row>(rows);
  for (int64_t b = 0; b < B; ++b)
    LK_REQUIRE(R[b].repetition_penalty > 0.f && R[b].history_len >= 0 && (!history || R[b].history_len <= P),
               "sample: row %ld has repetition penalty %g and history length %d (of %ld)", (long)b,
               R[b].repetition_penalty, R[b].history_len, (long)P);
  const float *X = at<float>(logits);
  int32_t *O = at<int32_t>(out), *H = history ? at<int32_t>(history) : nullptr;
  float *LP = logprobs ? at<float>(logprobs) : nullptr;
#pragma omp parallel for schedule(dynamic)
  for (int64_t b = 0; b < B; ++b) {
    const lk_sample_row &r = R[b];
    const float *orig = X + b * V;
    int32_t *hist = H && r.history_row >= 0 ? H + (int64_t)r.history_row * P : nullptr;
    const int32_t pick = draw_row(orig, r, hist, V);
    O[b] = pick;
    if (LP) {
      const float m = *std::max_element(orig, orig + V);
      double z = 0.0;
      for (int64_t i = 0; i < V; ++i) z += expf(orig[i] - m);
      LP[b] = orig[pick] - m - (float)std::log(z);
    }
    if (hist && r.history_len < P) hist[r.history_len] = pick;
  }
  return LK_OK;
}
