/* Helpers both backends compile (host code on CPU, host+device code on CUDA), so that the
 * random streams, bf16 rounding and RoPE/LogN constants agree bit for bit across backends. */
#ifndef LOOM_KERNELS_SHARED_H
#define LOOM_KERNELS_SHARED_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#ifdef __CUDACC__
#define LK_HD __host__ __device__ __forceinline__
#else
#define LK_HD static inline
#endif

/* splitmix64 finalizer over (seed, index): a counter-based generator, so any element's random
 * number is known without state and the result does not depend on threads or launch shape. */
LK_HD uint64_t lk_hash64(uint64_t seed, uint64_t index) {
  uint64_t x = seed + (index + 1) * 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

/* uniform float in [0, 1) with 24 random bits */
LK_HD float lk_uniform(uint64_t seed, uint64_t index) {
  return (float)(lk_hash64(seed, index) >> 40) * (1.0f / 16777216.0f);
}

/* The random stream of one sampling draw (lk_sample: a row's seed and step counter). */
LK_HD uint64_t lk_sample_stream(uint32_t seed, int32_t counter) {
  return lk_hash64((uint64_t)seed * 0x100000001B3ull + 0x5A17ull, (uint64_t)(uint32_t)counter);
}

/* Gumbel noise -log(-log u) for vocabulary entry i of a draw, u in (0, 1) from 24 bits: the
 * kept token maximizing logit/temperature + noise is a sample of the softmax over the kept set. */
LK_HD float lk_gumbel(uint64_t stream, uint64_t i) {
  const float u = ((float)(lk_hash64(stream, i) >> 40) + 0.5f) * (1.0f / 16777216.0f);
  return -logf(-logf(u));
}

LK_HD float lk_bf16_to_f32(uint16_t h) {
  uint32_t u = (uint32_t)h << 16;
  float f;
  memcpy(&f, &u, 4);
  return f;
}

/* round to nearest even; NaN stays NaN */
LK_HD uint16_t lk_f32_to_bf16(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
  u += 0x7fffu + ((u >> 16) & 1u);
  return (uint16_t)(u >> 16);
}

/* RoPE inverse frequency of pair i, computed in fp32 as Hugging Face's Qwen2 does:
 * 1 / base^(2i / D). */
LK_HD float lk_rope_inv_freq(float base, int64_t i, int64_t D) {
  return 1.0f / powf(base, (float)(2 * i) / (float)D);
}

/* Qwen's LogN attention scaling for the query at position p (0-based): log(p+1)/log(L) once the
 * position passes the training length L, else 1. */
LK_HD float lk_logn_scale(int64_t p, int64_t L) {
  if (L <= 0 || p + 1 <= L) return 1.0f;
  return (float)(log((double)(p + 1)) / log((double)L));
}

#endif
