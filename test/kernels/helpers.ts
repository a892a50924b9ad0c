// Shared pieces of the kernel tests: seeded data, comparisons and finite differences.
import assert from 'node:assert/strict';
import { createRandom } from '../../lib/util/random.js';
import { cudaAvailability, type Backend, type Tensor } from '../../kernels/index.js';

export function randn(n: number, seed: number, scale = 1): Float32Array {
  const r = createRandom(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    // Box-Muller
    const u = Math.max(r.next(), 1e-12), v = r.next();
    out[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v) * scale;
  }
  return out;
}

export function randint(n: number, hi: number, seed: number): Int32Array {
  const r = createRandom(seed);
  return Int32Array.from({ length: n }, () => r.int(hi));
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'length mismatch');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Asserts |a - b| <= atol + rtol * |b| elementwise, naming the worst element. */
export function assertClose(a: ArrayLike<number>, b: ArrayLike<number>, what: string, rtol = 1e-4, atol = 1e-5): void {
  assert.equal(a.length, b.length, `${what}: length ${a.length} vs ${b.length}`);
  let worst = -1, excess = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i] - b[i]) - (atol + rtol * Math.abs(b[i]));
    if (!(e <= excess)) (excess = Number.isNaN(e) ? Infinity : e), (worst = i);
  }
  if (worst >= 0) assert.fail(`${what}: element ${worst} is ${a[worst]}, expected ${b[worst]} (rtol ${rtol}, atol ${atol})`);
}

/** Uploads host data into a fresh long-lived tensor. */
export function put(k: Backend, shape: number[], data: Float32Array | Int32Array, dtype: 'f32' | 'i32' = data instanceof Int32Array ? 'i32' : 'f32'): Tensor {
  const t = k.alloc(shape, dtype);
  k.upload(t, data);
  return t;
}

export function get(k: Backend, t: Tensor): Float32Array {
  return k.toFloat32(t);
}

/** Σ out·r in float64: the scalar loss whose gradient wrt out is r. */
export function dotLoss(out: ArrayLike<number>, r: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < out.length; i++) s += out[i] * r[i];
  return s;
}

/**
 * Central finite differences of loss() with respect to `count` evenly spread elements of host
 * array x (which loss() must upload itself), compared with the analytic gradient.
 */
export function checkGradient(what: string, x: Float32Array, analytic: ArrayLike<number>, loss: () => number, opts: { count?: number; h?: number; rtol?: number; atol?: number } = {}): void {
  const { count = 12, h = 1e-2, rtol = 3e-2, atol = 2e-3 } = opts;
  const step = Math.max(1, Math.floor(x.length / count));
  for (let i = Math.floor(step / 2) % x.length; i < x.length; i += step) {
    const keep = x[i];
    x[i] = keep + h;
    const up = loss();
    x[i] = keep - h;
    const down = loss();
    x[i] = keep;
    const fd = (up - down) / (2 * h);
    const tol = atol + rtol * Math.max(Math.abs(fd), Math.abs(analytic[i]));
    assert.ok(Math.abs(fd - analytic[i]) <= tol, `${what}[${i}]: analytic ${analytic[i]} vs finite difference ${fd}`);
  }
  loss(); // leave the device copies unperturbed
}

/** Skip reason for CUDA tests, or false when a GPU and the CUDA library are present. */
export function cudaSkip(): string | false {
  const c = cudaAvailability();
  return c.ok ? false : `no GPU: ${c.reason}`;
}
