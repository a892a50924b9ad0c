// CPU backend: token sampling (repetition penalty, temperature, top-k, top-p), with the exact
// semantics documented in loom_kernels.h so the CUDA backend draws the same tokens.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "common.h"

using namespace lk;

extern "C" int lk_sample(lk_ptr out, lk_ptr logits, int64_t B, int64_t V, float temperature, int64_t top_k,
                         float top_p, float repetition_penalty, lk_ptr history, int64_t P, uint64_t seed) {
  LK_REQUIRE(repetition_penalty > 0.f, "sample: repetition penalty %g must be positive", repetition_penalty);
  const float *X = at<float>(logits);
  const int32_t *Hs = at<int32_t>(history);
  int32_t *O = at<int32_t>(out);
  for (int64_t b = 0; b < B; ++b) {
    const float *orig = X + b * V;
    std::vector<float> x(orig, orig + V);
    for (int64_t i = 0; Hs && i < P; ++i) {
      const int32_t t = Hs[b * P + i];
      if (t >= 0 && t < V) x[t] = orig[t] > 0.f ? orig[t] / repetition_penalty : orig[t] * repetition_penalty;
    }
    if (temperature <= 0.f) {
      O[b] = (int32_t)(std::max_element(x.begin(), x.end()) - x.begin());
      continue;
    }
    for (float &v : x) v /= temperature;
    std::vector<char> keep(V, 1);
    if (top_k > 0 && top_k < V) {
      std::vector<float> s(x);
      std::nth_element(s.begin(), s.begin() + (top_k - 1), s.end(), std::greater<float>());
      const float kth = s[top_k - 1];
      for (int64_t i = 0; i < V; ++i) keep[i] = x[i] >= kth;
    }
    float mx = -INFINITY;
    for (int64_t i = 0; i < V; ++i)
      if (keep[i]) mx = std::max(mx, x[i]);
    std::vector<float> p(V, 0.f);
    double total = 0.0;
    for (int64_t i = 0; i < V; ++i)
      if (keep[i]) total += (p[i] = std::exp(x[i] - mx));
    if (top_p < 1.f) {
      std::vector<int32_t> order;
      for (int64_t i = 0; i < V; ++i)
        if (keep[i]) order.push_back((int32_t)i);
      std::sort(order.begin(), order.end(), [&](int32_t a, int32_t c) { return p[a] > p[c]; });
      double before = 0.0;  // mass of strictly more probable tokens
      for (size_t s = 0; s < order.size();) {
        size_t e = s;
        double group = 0.0;
        while (e < order.size() && p[order[e]] == p[order[s]]) group += p[order[e++]];
        const bool k = before / total < top_p;
        for (size_t t = s; t < e; ++t) keep[order[t]] = k;
        before += group;
        s = e;
      }
      total = 0.0;
      for (int64_t i = 0; i < V; ++i)
        if (keep[i]) total += p[i];
    }
    const double target = (double)lk_uniform(seed, (uint64_t)b) * total;
    double cum = 0.0;
    int32_t pick = -1;
    for (int64_t i = 0; i < V; ++i) {
      if (!keep[i]) continue;
      pick = (int32_t)i;
      cum += p[i];
      if (cum > target) break;
    }
    O[b] = pick;
  }
  return LK_OK;
}
