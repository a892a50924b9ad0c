/*
 * loom kernels: the C ABI shared by the CPU (cpu/) and CUDA (cuda/) backends.
 *
 * Both backends build a shared library exporting exactly these symbols, so the binding
 * (kernels/index.ts) loads one or the other and calls the same functions.
 *
 * Conventions
 * - Memory is addressed by lk_ptr: an opaque 64-bit device address (host memory on the CPU
 *   backend, device memory on CUDA). Only lk_malloc returns one; callers may add byte offsets
 *   to it (that is how the activation arena hands out tensors). Host memory crosses only
 *   through lk_copy_h2d / lk_copy_d2h, as plain `void *`.
 * - Every function returns an lk_status; on failure lk_last_error() gives a message
 *   (thread-local, valid until the next failing call on that thread).
 * - Tensors are dense and row-major. `dt` is the dtype of activations and weights of an op;
 *   statistics (rstd, lse), losses and all weight gradients (dW, dbias, dweight, dtable) are
 *   always fp32, so optimizer state and gradient accumulation stay in fp32. Activation
 *   gradients share `dt`. The CPU backend computes in fp32 only (bf16 exists there for casts).
 * - Backward functions ACCUMULATE (+=) into weight gradients (so micro-batches add up) and
 *   OVERWRITE activation gradients; each function says which is which.
 * - All work is queued on the current stream (lk_set_stream); lk_synchronize waits for it.
 */
#ifndef LOOM_KERNELS_H
#define LOOM_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define LK_API __declspec(dllexport)
#else
#define LK_API __attribute__((visibility("default")))
#endif

typedef uint64_t lk_ptr;
typedef uint64_t lk_stream;
typedef uint64_t lk_event;

typedef enum { LK_F32 = 0, LK_BF16 = 1, LK_I32 = 2 } lk_dtype;

typedef enum {
  LK_OK = 0,
  LK_ERR_ARG = 1,         /* bad argument: shape, dtype, null pointer, index out of range */
  LK_ERR_OOM = 2,         /* allocation failed */
  LK_ERR_DEVICE = 3,      /* driver/runtime/library failure */
  LK_ERR_UNSUPPORTED = 4, /* this backend does not implement the request (e.g. bf16 math on CPU) */
} lk_status;

/* ---- backend, devices, streams, errors ---- */
LK_API const char *lk_backend(void);             /* "cpu" or "cuda" */
LK_API const char *lk_last_error(void);
LK_API int lk_device_count(void);                /* 0 when no usable device */
LK_API int lk_device_name(int device, char *out, int out_len);
LK_API int lk_init(int device);                  /* select device, create default stream and handles */
LK_API int lk_num_threads(void);                 /* CPU: OpenMP threads; CUDA: SM count */
LK_API int lk_stream_create(lk_stream *out);
LK_API int lk_stream_destroy(lk_stream s);
LK_API int lk_set_stream(lk_stream s);           /* 0 = default stream */
LK_API int lk_synchronize(void);
/* Batch-invariant mode, for the products and decode attention queued while it is on: a row's
 * result does not depend on how many rows share the call. CUDA: x·wᵀ products of any row count
 * take the decode products' one reduction order (gemv), and decode attention splits its keys
 * into fixed runs of LK_DECODE_KEYS. CPU: its kernels always are; a no-op. */
LK_API int lk_set_batch_invariant(int on);
/* Ordering between streams (e.g. gradient all-reduce on its own stream during the backward):
 * record an event on the current stream; make the current stream wait for one. CPU: no-ops. */
LK_API int lk_event_create(lk_event *out);
LK_API int lk_event_destroy(lk_event e);
LK_API int lk_event_record(lk_event e);
LK_API int lk_stream_wait_event(lk_event e);

/* ---- memory ---- */
LK_API int lk_malloc(size_t bytes, lk_ptr *out); /* 256-byte aligned */
LK_API int lk_free(lk_ptr p);
LK_API int lk_copy_h2d(lk_ptr dst, const void *src, size_t bytes);
LK_API int lk_copy_d2h(void *dst, lk_ptr src, size_t bytes);
LK_API int lk_copy_d2d(lk_ptr dst, lk_ptr src, size_t bytes);
LK_API int lk_memset0(lk_ptr p, size_t bytes);
LK_API int lk_fill(lk_ptr x, int64_t n, float value, int dt);
LK_API int lk_mem_info(size_t *free_bytes, size_t *total_bytes);

/* ---- elementwise and reductions ---- */
LK_API int lk_cast(lk_ptr dst, int dst_dt, lk_ptr src, int src_dt, int64_t n); /* f32<->bf16 (RNE), same-type copy */
LK_API int lk_add(lk_ptr out, lk_ptr a, lk_ptr b, int64_t n, int dt);          /* out = a + b (residual) */
LK_API int lk_axpy(lk_ptr y, float alpha, lk_ptr x, int64_t n, int dt);        /* y += alpha * x */
LK_API int lk_scale(lk_ptr x, float alpha, int64_t n, int dt);                 /* x *= alpha */
/* out[0] (fp32) = sum(x) or sum(x*x); with accumulate, out[0] += instead. */
LK_API int lk_sum(lk_ptr out, lk_ptr x, int64_t n, int dt, int accumulate);
LK_API int lk_sumsq(lk_ptr out, lk_ptr x, int64_t n, int dt, int accumulate);

/* ---- GEMM: C = alpha * op(A) @ op(B) + beta * C, row-major; op = transpose when trans != 0.
 * op(A) is [M,K], op(B) is [K,N], C is [M,N]. A and B have dtype ab_dt; C has c_dt
 * (c_dt may be fp32 with bf16 inputs, for fp32 gradient accumulation). ---- */
LK_API int lk_gemm(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha, lk_ptr A,
                   int64_t lda, lk_ptr B, int64_t ldb, float beta, lk_ptr C, int64_t ldc, int ab_dt, int c_dt);

/* ---- linear: y[M,N] = x[M,K] @ w[N,K]^T + b[N] (b may be 0) ---- */
LK_API int lk_linear_fwd(lk_ptr y, lk_ptr x, lk_ptr w, lk_ptr b, int64_t M, int64_t K, int64_t N, int dt);
/* dx[M,K] = dy @ w (overwrite; skipped when dx == 0); dw[N,K] += dy^T @ x (fp32; skipped when dw == 0);
 * db[N] += sum_rows(dy) (fp32; skipped when db == 0). */
LK_API int lk_linear_bwd(lk_ptr dx, lk_ptr dw, lk_ptr db, lk_ptr dy, lk_ptr x, lk_ptr w, int64_t M, int64_t K,
                         int64_t N, int dt);

/* ---- embedding: out[N,C] = table[ids[N]]; dtable (fp32) += scatter(dout) ---- */
LK_API int lk_embedding_fwd(lk_ptr out, lk_ptr ids, lk_ptr table, int64_t N, int64_t V, int64_t C, int dt);
LK_API int lk_embedding_bwd(lk_ptr dtable, lk_ptr dout, lk_ptr ids, int64_t N, int64_t V, int64_t C, int dt);

/* ---- RMSNorm over rows of C: y = x * rstd * w, rstd = 1/sqrt(mean(x^2) + eps) (fp32 [N]) ---- */
LK_API int lk_rmsnorm_fwd(lk_ptr y, lk_ptr rstd, lk_ptr x, lk_ptr w, int64_t N, int64_t C, float eps, int dt);
/* dx = overwrite; dw (fp32) += (skipped when dw == 0: a frozen weight) */
LK_API int lk_rmsnorm_bwd(lk_ptr dx, lk_ptr dw, lk_ptr dy, lk_ptr x, lk_ptr w, lk_ptr rstd, int64_t N, int64_t C,
                          int dt);
/* The residual add fused with the norm that reads its result: sum = a + b (rounded to dt and
 * stored), then lk_rmsnorm_fwd(y, rstd, sum, w) over it, in one call and with the same bits as
 * lk_add then lk_rmsnorm_fwd. */
LK_API int lk_add_rmsnorm_fwd(lk_ptr sum, lk_ptr y, lk_ptr rstd, lk_ptr a, lk_ptr b, lk_ptr w, int64_t N, int64_t C,
                              float eps, int dt);

/* ---- RoPE (Qwen/GPT-NeoX "rotate half" layout) on x[B*T, H, D], in place allowed.
 * pos (int32) holds absolute positions: pos_len = T (shared by the batch) or B*T (one per token,
 * e.g. decoding sequences of different lengths); inv_freq[i] = 1 / base^(2i/D) computed in fp32.
 * bases (fp32, pos_len entries indexed as pos, may be 0) gives each token its own base instead of
 * `base`: dynamic NTK-aware RoPE, where a token's base follows its sequence's length at the time it
 * is rotated (the KV cache keeps keys rotated with the base of their time, as Qwen's code does).
 * logn_len > 0 multiplies each row by log(p+1)/log(logn_len) when p+1 > logn_len (Qwen's LogN
 * attention scaling; pass it for queries only). The backward is the same call with inverse = 1. ---- */
LK_API int lk_rope(lk_ptr out, lk_ptr x, lk_ptr pos, int64_t pos_len, int64_t B, int64_t T, int64_t H, int64_t D,
                   float base, lk_ptr bases, int64_t logn_len, int inverse, int dt);
/* A decode step's RoPE and KV append in one: qkv[N, (Hq + 2*Hkv)*D] holds each token's query,
 * key and value heads side by side (as one product with the joined weights writes them). The
 * queries are rotated (with LogN when logn_len > 0) into q[N, Hq, D]; the keys, rotated, and the
 * values go to kcache/vcache [S, Tmax, Hkv, D] at slot[n], position pos[n] (slot < 0: skipped).
 * pos is also the rotation position; bases (fp32 [N], may be 0) as lk_rope's. The same bits as
 * lk_rope of q and of k, then lk_kv_append. */
LK_API int lk_rope_append(lk_ptr q, lk_ptr kcache, lk_ptr vcache, lk_ptr qkv, lk_ptr pos, lk_ptr slot, int64_t N,
                          int64_t S, int64_t Tmax, int64_t Hq, int64_t Hkv, int64_t D, float base, lk_ptr bases,
                          int64_t logn_len, int dt);

/* ---- causal attention (flash-style, online softmax), GQA: q[B,T,Hq,D], k,v[B,T,Hkv,D],
 * out[B,T,Hq,D], lse[B,Hq,T] fp32. window > 0 keeps keys with i - j < window. Packed rows (several
 * sequences a row, as FlashAttention's varlen API takes them): seq_start[b*T+i] is the first
 * position of position i's sequence and seq_end[b*T+i] one past its last (int32, row-relative);
 * a query sees only keys of its own sequence. 0 for both: one sequence a row. ---- */
LK_API int lk_attention_fwd(lk_ptr out, lk_ptr lse, lk_ptr q, lk_ptr k, lk_ptr v, int64_t B, int64_t T,
                            int64_t Hq, int64_t Hkv, int64_t D, float scale, int64_t window, lk_ptr seq_start,
                            lk_ptr seq_end, int dt);
/* dq, dk, dv overwritten. scratch: fp32 [B,Hq,T] (row dot products dout.out). */
LK_API int lk_attention_bwd(lk_ptr dq, lk_ptr dk, lk_ptr dv, lk_ptr dout, lk_ptr out, lk_ptr lse, lk_ptr q,
                            lk_ptr k, lk_ptr v, lk_ptr scratch, int64_t B, int64_t T, int64_t Hq, int64_t Hkv,
                            int64_t D, float scale, int64_t window, lk_ptr seq_start, lk_ptr seq_end, int dt);

/* ---- KV cache (inference): kcache, vcache [S, Tmax, Hkv, D], one row of Tmax positions per
 * sequence slot. ---- */
/* kcache[slot[n], pos[n]] = k[n] and the same for v, for each of N tokens k, v [N, Hkv, D]
 * (int32 slot, pos; slot < 0 skips the token, e.g. padding). */
LK_API int lk_kv_append(lk_ptr kcache, lk_ptr vcache, lk_ptr k, lk_ptr v, lk_ptr slot, lk_ptr pos, int64_t N,
                        int64_t S, int64_t Tmax, int64_t Hkv, int64_t D, int dt);
/* Attention of new queries over the cache (decode, or prefill after a cached prefix), GQA:
 * q[B, Tq, Hq, D]; row b's query i sits at position pos[b] + i of slot slot[b] and sees that
 * slot's keys 0..pos[b]+i (window > 0: the last `window` of them), which must already be
 * appended. slot < 0: the row is padding and gets zeros. out[B, Tq, Hq, D]. The keys are split
 * over blocks of LK_DECODE_KEYS or more (flash-decoding), so that one sequence fills a GPU; the
 * splits' partial results go to workspace (LK_DECODE_WORKSPACE floats; the CPU needs none). ---- */
#define LK_DECODE_KEYS 64
#define LK_DECODE_WORKSPACE(B, Tq, Hq, D, Tmax) \
  ((B) * (Tq) * (Hq) * (((Tmax) + LK_DECODE_KEYS - 1) / LK_DECODE_KEYS) * ((D) + 2))
LK_API int lk_attention_decode(lk_ptr out, lk_ptr q, lk_ptr kcache, lk_ptr vcache, lk_ptr slot, lk_ptr pos, int64_t B,
                               int64_t Tq, int64_t S, int64_t Tmax, int64_t Hq, int64_t Hkv, int64_t D, float scale,
                               int64_t window, lk_ptr workspace, int dt);

/* ---- SwiGLU: out = silu(gate) * up ---- */
LK_API int lk_swiglu_fwd(lk_ptr out, lk_ptr gate, lk_ptr up, int64_t n, int dt);
/* out[r, f] = silu(gate_up[r, f]) * gate_up[r, F + f]: the rows of one joined gate/up product */
LK_API int lk_swiglu_joined_fwd(lk_ptr out, lk_ptr gate_up, int64_t rows, int64_t F, int dt);
LK_API int lk_swiglu_bwd(lk_ptr dgate, lk_ptr dup, lk_ptr dout, lk_ptr gate, lk_ptr up, int64_t n, int dt);

/* ---- dropout: keep with probability 1-p, scale by 1/(1-p). The mask is a hash of
 * (seed, index), identical on every backend; the backward recomputes it. ---- */
LK_API int lk_dropout_fwd(lk_ptr out, lk_ptr x, int64_t n, float p, uint64_t seed, int dt);
LK_API int lk_dropout_bwd(lk_ptr dx, lk_ptr dout, int64_t n, float p, uint64_t seed, int dt);

/* ---- LM head fused with softmax cross-entropy, chunked so that the full logits
 * h[N,C] @ w[V,C]^T never exist: the CPU goes through the vocabulary in chunks of `chunk`
 * entries, CUDA through the rows in chunks that fill the logits region. targets[N] int32; a
 * target < 0 is ignored (loss 0, no gradient). losses[N] fp32 = lse - logit[target].
 * When dh != 0: dh[N,C] = overwrite and, when dw != 0, dw (fp32) += (dw == 0: a frozen head),
 * with dloss[n]/dlogit scaled by grad_scale * weights[n]: weights (fp32 [N], any sign) weigh each
 * target (0 = all 1), grad_scale is shared (e.g. 1 / number of counted tokens). losses are never
 * weighted, so -losses are the targets' log-probabilities. workspace: at least
 * LK_LMHEAD_WORKSPACE(N, C, chunk, V) floats (a logits region, an fp32 dh accumulator, per-row max
 * and sum). ---- */
#define LK_LMHEAD_LOGITS(N, chunk, V) (2 * ((N) * (chunk) > (V) ? (N) * (chunk) : (V)))
#define LK_LMHEAD_WORKSPACE(N, C, chunk, V) (LK_LMHEAD_LOGITS(N, chunk, V) + (N) * (C) + 2 * (N))
LK_API int lk_lmhead_ce(lk_ptr losses, lk_ptr dh, lk_ptr dw, lk_ptr h, lk_ptr w, lk_ptr targets, lk_ptr weights,
                        int64_t N, int64_t C, int64_t V, int64_t chunk, float grad_scale, lk_ptr workspace, int dt);

/* ---- optimizer ---- */
/* norm[0] (fp32) = sqrt(sumsq[0]); coef[0] = min(1, max_norm / (norm + 1e-6)) (max_norm <= 0: 1). */
LK_API int lk_clip_coef(lk_ptr coef, lk_ptr norm, lk_ptr sumsq, float max_norm);
/* AdamW with decoupled weight decay over a flat segment. master, grad, m, v fp32; grad is
 * multiplied by grad_scale[0] when grad_scale != 0 (the clip coefficient, read on device).
 * When working != 0 it receives the updated weights in working_dt (bf16 working copy). */
LK_API int lk_adamw(lk_ptr master, lk_ptr grad, lk_ptr m, lk_ptr v, lk_ptr working, int working_dt, int64_t n,
                    float lr, float beta1, float beta2, float eps, float weight_decay, int64_t step,
                    lk_ptr grad_scale);

/* ---- sampling: one token per row of logits[B, V] (fp32) into out[B] (int32), each row with its
 * own settings (lk_sample_row, in device memory), so one batch mixes requests.
 * Order: repetition penalty over the row's history (positive logits divided, negative
 * multiplied, as Hugging Face does), then temperature (<= 0: greedy, the first index of the
 * maximum), top-k (keep logits >= the k-th largest; 0 = off), top-p (keep tokens whose
 * strictly-more-probable mass is < top_p of the kept mass; >= 1 = off), then the Gumbel-max
 * draw: the kept token with the largest x/temperature - log(-log u_i), u_i a hash of (seed,
 * counter, i). The draw depends only on the row's own logits, seed and counter, never on the
 * batch. logprobs (fp32 [B], may be 0) get log softmax(logits)[token] of the raw logits.
 * history (int32, row r at history + r * P): row b's tokens are history_row's first history_len
 * entries (history_row < 0: none); the drawn token is appended there when history_len < P. ---- */
typedef struct {
  float temperature;
  float top_p;
  float repetition_penalty;
  int32_t top_k;
  uint32_t seed;
  int32_t counter;     /* e.g. the position the token will take: a fresh random stream per step */
  int32_t history_row;
  int32_t history_len;
} lk_sample_row;
LK_API int lk_sample(lk_ptr out, lk_ptr logprobs, lk_ptr logits, lk_ptr rows, lk_ptr history, int64_t B, int64_t V,
                     int64_t P);

/* ---- graphs: the work queued on the current stream between begin and end is recorded, not run;
 * launch replays it (CUDA graphs: a decode step in one launch). Pointers and shapes are fixed
 * at capture; only the contents of memory change between launches. CPU: LK_ERR_UNSUPPORTED. ---- */
typedef uint64_t lk_graph;
LK_API int lk_graph_begin(void);
LK_API int lk_graph_end(lk_graph *out);
LK_API int lk_graph_launch(lk_graph g);
LK_API int lk_graph_destroy(lk_graph g);

/* ---- NCCL (CUDA backend; libnccl found at run time with dlopen) ---- */
LK_API int lk_nccl_unique_id(void *out128);
LK_API int lk_nccl_init(int world, int rank, const void *id128);
LK_API int lk_nccl_all_reduce(lk_ptr buf, int64_t n, int dt, int average);
LK_API int lk_nccl_broadcast(lk_ptr buf, int64_t n, int dt, int root);
LK_API int lk_nccl_destroy(void);

#ifdef __cplusplus
}
#endif
#endif
