// Straightforward TypeScript references of the kernels (float64 math), for the op tests.
import { lognScale } from '../../kernels/index.js';

/** y[M,N] = x[M,K] @ w[N,K]ᵀ + b */
export function linearRef(x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number> | null, M: number, K: number, N: number): Float64Array {
  const y = new Float64Array(M * N);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let s = b ? b[j] : 0;
      for (let k = 0; k < K; k++) s += x[i * K + k] * w[j * K + k];
      y[i * N + j] = s;
    }
  return y;
}

export function rmsnormRef(x: ArrayLike<number>, w: ArrayLike<number>, N: number, C: number, eps: number): Float64Array {
  const y = new Float64Array(N * C);
  for (let n = 0; n < N; n++) {
    let ss = 0;
    for (let c = 0; c < C; c++) ss += x[n * C + c] ** 2;
    const r = 1 / Math.sqrt(ss / C + eps);
    for (let c = 0; c < C; c++) y[n * C + c] = x[n * C + c] * r * w[c];
  }
  return y;
}

/** Rotate-half RoPE on x[B,T,H,D] with LogN scaling beyond lognLen (0 = off); `base` is shared or one per position (dynamic NTK). */
export function ropeRef(x: ArrayLike<number>, pos: ArrayLike<number>, B: number, T: number, H: number, D: number, base: number | ArrayLike<number>, lognLen = 0): Float64Array {
  const out = new Float64Array(x.length);
  const half = D / 2;
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++)
      for (let h = 0; h < H; h++) {
        const o = ((b * T + t) * H + h) * D;
        const s = lognScale(pos[t], lognLen);
        for (let i = 0; i < half; i++) {
          const theta = Math.fround(typeof base === 'number' ? base : base[t]);
          const ang = pos[t] * Math.fround(1 / Math.fround(theta ** ((2 * i) / D)));
          const c = Math.cos(ang), sn = Math.sin(ang);
          out[o + i] = (x[o + i] * c - x[o + i + half] * sn) * s;
          out[o + i + half] = (x[o + i + half] * c + x[o + i] * sn) * s;
        }
      }
  return out;
}

/** Causal (optionally windowed) GQA attention with explicit softmax. */
export function attentionRef(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, B: number, T: number, Hq: number, Hkv: number, D: number, window = 0): Float64Array {
  const out = new Float64Array(B * T * Hq * D);
  const scale = 1 / Math.sqrt(D), g = Hq / Hkv;
  for (let b = 0; b < B; b++)
    for (let h = 0; h < Hq; h++)
      for (let i = 0; i < T; i++) {
        const lo = window > 0 ? Math.max(0, i - window + 1) : 0;
        const s: number[] = [];
        for (let j = lo; j <= i; j++) {
          let d = 0;
          for (let e = 0; e < D; e++) d += q[((b * T + i) * Hq + h) * D + e] * k[((b * T + j) * Hkv + Math.floor(h / g)) * D + e];
          s.push(d * scale);
        }
        const m = Math.max(...s);
        const p = s.map((x) => Math.exp(x - m));
        const z = p.reduce((a, c) => a + c, 0);
        for (let e = 0; e < D; e++) {
          let acc = 0;
          for (let j = lo; j <= i; j++) acc += (p[j - lo] / z) * v[((b * T + j) * Hkv + Math.floor(h / g)) * D + e];
          out[((b * T + i) * Hq + h) * D + e] = acc;
        }
      }
  return out;
}

/** Per-token cross-entropy with full logits; targets < 0 give 0. */
export function crossEntropyRef(h: ArrayLike<number>, w: ArrayLike<number>, targets: ArrayLike<number>, N: number, C: number, V: number): Float64Array {
  const logits = linearRef(h, w, null, N, C, V);
  const out = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    if (targets[n] < 0) continue;
    let m = -Infinity;
    for (let j = 0; j < V; j++) m = Math.max(m, logits[n * V + j]);
    let z = 0;
    for (let j = 0; j < V; j++) z += Math.exp(logits[n * V + j] - m);
    out[n] = m + Math.log(z) - logits[n * V + targets[n]];
  }
  return out;
}

export const silu = (x: number): number => x / (1 + Math.exp(-x));
