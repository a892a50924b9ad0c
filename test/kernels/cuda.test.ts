// CUDA against CPU on realistic shapes (skipped where no GPU and CUDA library exist).
// Tolerances are on the normalized error max|cuda - cpu| / max|cpu|: 2e-4 to 1e-3 in fp32 (the
// summation orders differ), 2e-2 in bf16 (inputs rounded to bf16 on both sides, so only the
// bf16 rounding of outputs and intermediates remains).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeWorkspace, lmHeadWorkspace, openBackend, packSampleRows, ropeBase, SAMPLE_ROW_WORDS, type Backend, type DType, type SampleRow, type Tensor } from '../../kernels/index.js';
import { cudaSkip, randint, randn } from './helpers.js';
import { initParams, runModel, sampleBatch, type BlockConfig } from './qwen-block.js';

const skip = cudaSkip();
const cpu = openBackend('cpu');
const gpu = skip ? null : openBackend('cuda');

/** Rounds fp32 values to the nearest bf16, as the device cast does. */
function roundBf16(x: Float32Array): Float32Array {
  const t = cpu.alloc([x.length]), h = cpu.alloc([x.length], 'bf16'), out = cpu.alloc([x.length]);
  cpu.upload(t, x);
  cpu.cast(h, t);
  cpu.cast(out, h);
  return cpu.toFloat32(out);
}

/** A device tensor of dtype dt holding host data (fp32 data cast on device for bf16). */
function dev(k: Backend, shape: number[], data: Float32Array | Int32Array, dt: DType = 'f32'): Tensor {
  if (data instanceof Int32Array) {
    const t = k.alloc(shape, 'i32');
    k.upload(t, data);
    return t;
  }
  const f = k.alloc(shape);
  k.upload(f, data);
  if (dt === 'f32') return f;
  const b = k.alloc(shape, dt);
  k.cast(b, f);
  return b;
}

function normErr(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) return Infinity;
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / (den || 1);
}

function close(what: string, got: Float32Array, want: Float32Array, tol: number): void {
  const e = normErr(got, want);
  assert.ok(e <= tol, `${what}: normalized error ${e.toExponential(2)} > ${tol}`);
}

/** Runs `op` on both backends with the same host inputs; returns each backend's outputs. */
function both(dt: DType, op: (k: Backend, dt: DType) => Float32Array[]): [Float32Array[], Float32Array[]] {
  return [op(gpu!, dt), op(cpu, 'f32')];
}

const tolOf = (dt: DType, fp32: number) => (dt === 'f32' ? fp32 : 2e-2);

for (const dt of ['f32', 'bf16'] as DType[]) {
  const r = (data: Float32Array) => (dt === 'bf16' ? roundBf16(data) : data);

  test(`cuda ${dt}: linear forward and backward (M=512, K=768, N=2304, bias)`, { skip }, () => {
    const M = 512, K = 768, N = 2304;
    const x = r(randn(M * K, 1)), w = r(randn(N * K, 2, 0.05)), b = r(randn(N, 3)), dy = r(randn(M * N, 4));
    const [g, c] = both(dt, (k, t) => {
      const X = dev(k, [M, K], x, t), W = dev(k, [N, K], w, t), B = dev(k, [N], b, t), Y = k.alloc([M, N], t);
      k.linear(Y, X, W, B);
      const dX = k.alloc([M, K], t), dW = k.alloc([N, K]), dB = k.alloc([N]);
      k.linearBackward(dX, dW, dB, dev(k, [M, N], dy, t), X, W);
      return [k.toFloat32(Y), k.toFloat32(dX), k.toFloat32(dW), k.toFloat32(dB)];
    });
    ['y', 'dx', 'dw', 'db'].forEach((n, i) => close(n, g[i], c[i], tolOf(dt, 1e-4)));
  });

  test(`cuda ${dt}: rmsnorm, rope (LogN, positions to 8191), swiglu, add, dropout, embedding`, { skip }, () => {
    const N = 1024, C = 768, V = 4096;
    const x = r(randn(N * C, 5)), w = r(randn(C, 6)), dy = r(randn(N * C, 7)), ids = randint(N, V, 8), table = r(randn(V * C, 9));
    const B = 2, T = 512, H = 12, D = 64;
    const pos = Int32Array.from({ length: T }, (_, i) => i * 16);
    const perToken = Int32Array.from({ length: B * T }, (_, i) => (i * 37) % 5000);
    const [g, c] = both(dt, (k, t) => {
      const X = dev(k, [N, C], x, t), W = dev(k, [C], w, t), Y = k.alloc([N, C], t), R = k.alloc([N]);
      k.rmsnorm(Y, R, X, W, 1e-6);
      const dX = k.alloc([N, C], t), dW = k.alloc([C]);
      k.rmsnormBackward(dX, dW, dev(k, [N, C], dy, t), X, W, R);
      const Q = X.view([B, T, H, D]), Qr = k.alloc([B, T, H, D], t), Qd = k.alloc([B, T, H, D], t);
      k.rope(Qr, Q, dev(k, [T], pos), { base: 1e6, lognLength: 2048 });
      k.rope(Qd, Q, dev(k, [B, T], perToken), { base: 1e4, lognLength: 2048 });
      const S = k.alloc([N, C], t), A = k.alloc([N, C], t), Dp = k.alloc([N, C], t);
      k.swiglu(S, X, Y);
      k.add(A, X, Y);
      k.dropout(Dp, X, 0.1, 1234);
      const E = k.alloc([N, C], t);
      k.embedding(E, dev(k, [N], ids), dev(k, [V, C], table, t));
      return [Y, R, dX, dW, Qr, S, A, Dp, E, Qd].map((z) => k.toFloat32(z));
    });
    ['rmsnorm y', 'rstd', 'rmsnorm dx', 'rmsnorm dw', 'rope', 'swiglu', 'add', 'dropout', 'embedding', 'rope per token'].forEach((n, i) => close(n, g[i], c[i], tolOf(dt, 2e-4)));
    // the dropout mask is identical bit for bit: same hash on both backends
    g[7].forEach((v, i) => assert.equal(v === 0, c[7][i] === 0));
  });

  // On sm_90 bf16 runs the wgmma kernels; LOOM_ATTENTION_MMA=1 checks the mma.sync ones there too.
  const paths = dt === 'bf16' ? ['default', 'LOOM_ATTENTION_MMA'] : ['default'];
  for (const [D, window, T] of [[64, 0, 256], [128, 0, 256], [64, 100, 200], [128, 70, 130], [64, 0, 1000], [128, 300, 520], [64, 0, 257]])
  for (const path of paths)
    test(`cuda ${dt}: attention forward, backward and decode (B=2, T=${T}, Hq=8, Hkv=2, D=${D}, window ${window}, ${path})`, { skip }, (ctx) => {
      if (path !== 'default') {
        process.env[path] = '1';
        ctx.after(() => delete process.env[path]);
      }
      const B = 2, Hq = 8, Hkv = 2;
      const q = r(randn(B * T * Hq * D, 10)), kk = r(randn(B * T * Hkv * D, 11)), v = r(randn(B * T * Hkv * D, 12)), dO = r(randn(B * T * Hq * D, 13));
      const [g, c] = both(dt, (k, t) => {
        const Q = dev(k, [B, T, Hq, D], q, t), K = dev(k, [B, T, Hkv, D], kk, t), Vv = dev(k, [B, T, Hkv, D], v, t);
        const O = k.alloc([B, T, Hq, D], t), L = k.alloc([B, Hq, T]);
        k.attention(O, L, Q, K, Vv, { window });
        const dQ = k.alloc([B, T, Hq, D], t), dK = k.alloc([B, T, Hkv, D], t), dV = k.alloc([B, T, Hkv, D], t);
        k.attentionBackward(dQ, dK, dV, dev(k, [B, T, Hq, D], dO, t), O, L, Q, K, Vv, k.alloc([B * Hq * T]), { window });
        // decode the last position of each sequence from the cache (lengths T and T-7), the rows
        // reading swapped slots, with the keys split over blocks
        const pos = Int32Array.from([T - 1, T - 8]);
        const qd = new Float32Array(B * Hq * D);
        for (let b = 0; b < B; b++) qd.set(q.subarray((b * T + pos[b]!) * Hq * D, (b * T + pos[b]! + 1) * Hq * D), b * Hq * D);
        const Kc = k.alloc([B, T, Hkv, D], t), Vc = k.alloc([B, T, Hkv, D], t);
        const slots = Int32Array.from({ length: B * T }, (_, n) => B - 1 - Math.floor(n / T)), at = Int32Array.from({ length: B * T }, (_, n) => n % T);
        k.kvAppend(Kc, Vc, K.view([B * T, Hkv, D]), Vv.view([B * T, Hkv, D]), dev(k, [B * T], slots), dev(k, [B * T], at));
        const Od = k.alloc([B, 1, Hq, D], t);
        k.attentionDecode(Od, dev(k, [B, 1, Hq, D], qd, t), Kc, Vc, dev(k, [B], pos), { window, slot: dev(k, [B], Int32Array.from([1, 0])), workspace: k.alloc([decodeWorkspace(B, 1, Hq, D, T)]) });
        return [O, L, dQ, dK, dV, Od].map((z) => k.toFloat32(z));
      });
      ['out', 'lse', 'dq', 'dk', 'dv', 'decode'].forEach((n, i) => close(n, g[i], c[i], tolOf(dt, 2e-4)));
    });

  // Packed rows (several sequences a row): every kernel path masks keys outside a query's sequence
  // and skips the tiles no query of a block sees.
  const packedPaths = dt === 'bf16' ? ['default', 'LOOM_ATTENTION_MMA', 'LOOM_ATTENTION_SIMT'] : ['default'];
  for (const [D, window, T] of [[64, 0, 512], [128, 0, 300], [64, 40, 256]])
  for (const path of packedPaths)
    test(`cuda ${dt}: attention over packed rows (B=2, T=${T}, D=${D}, window ${window}, ${path})`, { skip }, (ctx) => {
      if (path !== 'default') {
        process.env[path] = '1';
        ctx.after(() => delete process.env[path]);
      }
      const B = 2, Hq = 4, Hkv = 2;
      // sequences of 1 to 200 tokens, tiling each row
      const lengths = [[37, 150, 1, T - 188], [200, T - 200]];
      const start = new Int32Array(B * T), end = new Int32Array(B * T);
      lengths.forEach((row, b) => {
        let at = 0;
        for (const len of row) {
          start.fill(at, b * T + at, b * T + at + len);
          end.fill(at + len, b * T + at, b * T + at + len);
          at += len;
        }
      });
      const q = r(randn(B * T * Hq * D, 20)), kk = r(randn(B * T * Hkv * D, 21)), v = r(randn(B * T * Hkv * D, 22)), dO = r(randn(B * T * Hq * D, 23));
      const [g, c] = both(dt, (k, t) => {
        const sequences = { start: dev(k, [B * T], start), end: dev(k, [B * T], end) };
        const Q = dev(k, [B, T, Hq, D], q, t), K = dev(k, [B, T, Hkv, D], kk, t), Vv = dev(k, [B, T, Hkv, D], v, t);
        const O = k.alloc([B, T, Hq, D], t), L = k.alloc([B, Hq, T]);
        k.attention(O, L, Q, K, Vv, { window, sequences });
        const dQ = k.alloc([B, T, Hq, D], t), dK = k.alloc([B, T, Hkv, D], t), dV = k.alloc([B, T, Hkv, D], t);
        k.attentionBackward(dQ, dK, dV, dev(k, [B, T, Hq, D], dO, t), O, L, Q, K, Vv, k.alloc([B * Hq * T]), { window, sequences });
        return [O, L, dQ, dK, dV].map((z) => k.toFloat32(z));
      });
      ['out', 'lse', 'dq', 'dk', 'dv'].forEach((n, i) => close(n, g[i], c[i], tolOf(dt, 2e-4)));
    });

  // The tile rings hand shared memory between one loading thread and the warps that multiply; a
  // slot refilled too early would show as outputs that change from one identical call to the next.
  if (dt === 'bf16')
    test('cuda bf16: attention forward and backward are bit-identical over 20 repeated calls (B=4, T=2048, H=12, D=64 and 128)', { skip }, () => {
      const k = gpu!;
      for (const D of [64, 128]) {
        const B = 4, T = 2048, H = 12;
        const [q, kk, v, dO] = [20, 21, 22, 23].map((seed) => dev(k, [B, T, H, D], randn(B * T * H * D, seed), 'bf16'));
        const O = k.alloc([B, T, H, D], 'bf16'), L = k.alloc([B, H, T]), scratch = k.alloc([B * H * T]);
        const grads = [0, 1, 2].map(() => k.alloc([B, T, H, D], 'bf16'));
        const run = (): Float32Array[] => {
          k.attention(O, L, q, kk, v);
          k.attentionBackward(grads[0], grads[1], grads[2], dO, O, L, q, kk, v, scratch);
          return [O, L, ...grads].map((t) => k.toFloat32(t));
        };
        const first = run();
        for (let i = 0; i < 20; i++)
          run().forEach((x, j) => assert.ok(Buffer.from(x.buffer).equals(Buffer.from(first[j].buffer)), `D${D} call ${i + 2}: ${['out', 'lse', 'dq', 'dk', 'dv'][j]} changed`));
      }
    });

  // V = 5000 takes the 16-byte path through each row, 5001 the element-wise one; the CUDA row
  // chunks (workspace / V rows at a time) split N = 256 into several
  for (const V of [5000, 5001]) {
    test(`cuda ${dt}: fused LM head + cross-entropy (N=256, C=128, V=${V}, chunk 1024)`, { skip }, () => {
      const N = 256, C = 128, chunk = 1024;
      const h = r(randn(N * C, 14)), w = r(randn(V * C, 15, 0.1)), targets = randint(N, V, 16);
      targets[3] = -100;
      const [g, c] = both(dt, (k, t) => {
        const Ls = k.alloc([N]), dH = k.alloc([N, C], t), dW = k.alloc([V, C]);
        k.lmHeadCE(Ls, dH, dW, dev(k, [N, C], h, t), dev(k, [V, C], w, t), dev(k, [N], targets), { chunk, workspace: k.alloc([lmHeadWorkspace(N, C, chunk, V)]), gradScale: 1 / 255 });
        return [Ls, dH, dW].map((z) => k.toFloat32(z));
      });
      ['losses', 'dh', 'dw'].forEach((n, i) => close(n, g[i], c[i], tolOf(dt, 2e-4)));
    });
  }

  test(`cuda ${dt}: rope with per-token bases (dynamic NTK over a growing sequence, LogN, inverse)`, { skip }, () => {
    const B = 4, T = 256, H = 8, D = 128, trainLen = 512;
    const x = r(randn(B * T * H * D, 31));
    // each row continues a sequence at its own length; a token's base follows its length
    const pos = Int32Array.from({ length: B * T }, (_, i) => Math.floor(i / T) * 900 + (i % T) * 7);
    const bases = Float32Array.from(pos, (p) => ropeBase(1e6, D, p + 1, trainLen));
    const [g, c] = both(dt, (k, t) => {
      const X = dev(k, [B, T, H, D], x, t), P = dev(k, [B, T], pos), Bs = dev(k, [B * T], bases);
      const Q = k.alloc([B, T, H, D], t), dQ = k.alloc([B, T, H, D], t);
      k.rope(Q, X, P, { base: 1e6, bases: Bs, lognLength: trainLen });
      k.rope(dQ, X, P, { base: 1e6, bases: Bs, inverse: true });
      return [Q, dQ].map((z) => k.toFloat32(z));
    });
    ['rope bases', 'rope bases inverse'].forEach((n, i) => close(n, g[i], c[i], tolOf(dt, 2e-4)));
  });

  test(`cuda ${dt}: LM head with per-target weights (any sign) and a frozen head (no dw)`, { skip }, () => {
    const N = 96, C = 64, V = 3000, chunk = 512;
    const h = r(randn(N * C, 24)), w = r(randn(V * C, 25, 0.1)), targets = randint(N, V, 26);
    targets[5] = -1;
    const weights = Float32Array.from({ length: N }, (_, i) => [1, 0, -0.5, 2][i % 4]!);
    const [g, c] = both(dt, (k, t) => {
      const Ls = k.alloc([N]), dH = k.alloc([N, C], t), dW = k.alloc([V, C]), dHfrozen = k.alloc([N, C], t);
      const H = dev(k, [N, C], h, t), W = dev(k, [V, C], w, t), Tg = dev(k, [N], targets), Wt = dev(k, [N], weights);
      const workspace = k.alloc([lmHeadWorkspace(N, C, chunk, V)]);
      k.lmHeadCE(Ls, dH, dW, H, W, Tg, { chunk, workspace, gradScale: 1 / 90, weights: Wt });
      k.lmHeadCE(k.alloc([N]), dHfrozen, null, H, W, Tg, { chunk, workspace, gradScale: 1 / 90, weights: Wt });
      return [Ls, dH, dW, dHfrozen].map((z) => k.toFloat32(z));
    });
    ['losses', 'dh', 'dw', 'dh (frozen head)'].forEach((n, i) => close(n, g[i], c[i], tolOf(dt, 2e-4)));
    assert.deepEqual(g[3], g[1], 'a frozen head changes no bit of dh');
  });

  test(`cuda ${dt}: RMSNorm backward without a weight gradient (frozen) gives the same dx`, { skip }, () => {
    const N = 70, C = 96, x = r(randn(N * C, 30)), w = r(randn(C, 31)), dy = r(randn(N * C, 32));
    const [g, c] = both(dt, (k, t) => {
      const X = dev(k, [N, C], x, t), W = dev(k, [C], w, t), Y = k.alloc([N, C], t), R = k.alloc([N]);
      k.rmsnorm(Y, R, X, W, 1e-6);
      const dX = k.alloc([N, C], t), dXfrozen = k.alloc([N, C], t), dW = k.alloc([C]);
      k.rmsnormBackward(dX, dW, dev(k, [N, C], dy, t), X, W, R);
      k.rmsnormBackward(dXfrozen, null, dev(k, [N, C], dy, t), X, W, R);
      return [dX, dXfrozen].map((z) => k.toFloat32(z));
    });
    close('dx', g[0], c[0], tolOf(dt, 1e-4));
    assert.deepEqual(g[1], g[0], 'dx does not depend on dw being computed');
  });

  // N = 1 is a decode step; C = 1001 takes the one-element path, C = 9000 (wider than a block) add then rmsnorm
  test(`cuda ${dt}: addRmsnorm matches the CPU and has the bits of add then rmsnorm (N 1, 3, 1000; C 768, 1000, 1001, 9000)`, { skip }, () => {
    const shapes = [1, 3, 1000].flatMap((N) => [768, 1000].map((C) => [N, C])).concat([[3, 1001], [3, 9000]]);
    for (const [N, C] of shapes) {
      const a = r(randn(N * C, 60)), b = r(randn(N * C, 61)), w = r(randn(C, 62));
      const run = (k: Backend, t: DType, fused: boolean): Tensor[] => {
        const A = dev(k, [N, C], a, t), B = dev(k, [N, C], b, t), W = dev(k, [C], w, t);
        const out = [k.alloc([N, C], t), k.alloc([N, C], t), k.alloc([N])];
        if (fused) k.addRmsnorm(out[0]!, out[1]!, out[2]!, A, B, W, 1e-6);
        else {
          k.add(out[0]!, A, B);
          k.rmsnorm(out[1]!, out[2]!, out[0]!, W, 1e-6);
        }
        return out;
      };
      const got = run(gpu!, dt, true), apart = run(gpu!, dt, false), want = run(cpu, 'f32', true);
      ['sum', 'y', 'rstd'].forEach((n, i) => {
        close(`N=${N} C=${C} ${n}`, gpu!.toFloat32(got[i]!), cpu.toFloat32(want[i]!), tolOf(dt, 2e-4));
        const bits = (t: Tensor) => Buffer.from(gpu!.download(t).buffer);
        assert.ok(bits(got[i]!).equals(bits(apart[i]!)), `N=${N} C=${C} ${n}: not the bits of add then rmsnorm`);
      });
    }
  });

  test(`cuda ${dt}: ropeAppend matches the CPU and has the bits of rope then kvAppend (Qwen-0.5B heads, LogN, per-token bases, a skipped slot)`, { skip }, () => {
    const N = 5, Hq = 14, Hkv = 2, D = 64, S = 4, Tmax = 300, W = (Hq + 2 * Hkv) * D;
    const qkv = r(randn(N * W, 70)), pos = Int32Array.from([0, 7, 299, 150, 42]), slot = Int32Array.from([3, 0, 1, -1, 2]);
    const bases = Float32Array.from([1e6, 1e6, 3.1e6, 1e6, 2e6]);
    const run = (k: Backend, t: DType, fused: boolean): Tensor[] => {
      const opts = (logn: number) => ({ base: 1e6, bases: dev(k, [N], bases), lognLength: logn });
      const cache = () => {
        const c = k.alloc([S, Tmax, Hkv, D], t);
        k.zero(c);
        return c;
      };
      const out = [k.alloc([N, 1, Hq, D], t), cache(), cache()];
      const X = dev(k, [N, W], qkv, t), P = dev(k, [N], pos), Sl = dev(k, [N], slot);
      if (fused) k.ropeAppend(out[0]!, out[1]!, out[2]!, X, P, Sl, opts(100));
      else {
        const part = (from: number, heads: number) => {
          const h = new Float32Array(N * heads * D);
          for (let n = 0; n < N; n++) h.set(qkv.subarray(n * W + from * D, n * W + (from + heads) * D), n * heads * D);
          return dev(k, [N, 1, heads, D], h, t);
        };
        const q = part(0, Hq), kk = part(Hq, Hkv), v = part(Hq + Hkv, Hkv);
        k.rope(q, q, P, opts(100));
        k.rope(kk, kk, P, opts(0));
        k.copy(out[0]!, q);
        k.kvAppend(out[1]!, out[2]!, kk.view([N, Hkv, D]), v.view([N, Hkv, D]), Sl, P);
      }
      return out;
    };
    const got = run(gpu!, dt, true), apart = run(gpu!, dt, false), want = run(cpu, 'f32', true);
    ['queries', 'key cache', 'value cache'].forEach((n, i) => {
      close(n, gpu!.toFloat32(got[i]!), cpu.toFloat32(want[i]!), tolOf(dt, 2e-4));
      const bits = (t: Tensor) => Buffer.from(gpu!.download(t).buffer);
      assert.ok(bits(got[i]!).equals(bits(apart[i]!)), `${n}: not the bits of rope then kvAppend`);
    });
  });

  test(`cuda ${dt}: elementwise ops on odd lengths at unaligned addresses (the one-element path)`, { skip }, () => {
    const n = 1001, x = r(randn(n + 1, 40)), y = r(randn(n + 1, 41)), d = r(randn(n + 1, 42));
    const [g, c] = both(dt, (k, t) => {
      const at1 = (data: Float32Array) => dev(k, [n + 1, 1], data, t).rows(1, n + 1); // offset by one element
      const X = at1(x), Y = at1(y), Dout = at1(d);
      const S = at1(new Float32Array(n + 1)), A = at1(new Float32Array(n + 1)), dG = at1(new Float32Array(n + 1)), dU = at1(new Float32Array(n + 1));
      k.swiglu(S, X, Y);
      k.add(A, X, Y);
      k.axpy(A, 0.5, S);
      k.swigluBackward(dG, dU, Dout, X, Y);
      return [S, A, dG, dU].map((z) => k.toFloat32(z));
    });
    ['swiglu', 'add + axpy', 'swiglu dgate', 'swiglu dup'].forEach((name, i) => close(name, g[i], c[i], tolOf(dt, 2e-4)));
  });

  test(`cuda ${dt}: swigluJoined over the rows of a joined gate/up product matches the CPU and has the bits of swiglu on the halves`, { skip }, () => {
    const rows = 7, F = 2051, gu = r(randn(rows * 2 * F, 43));
    const [g, c] = both(dt, (k, t) => {
      const out = k.alloc([rows, F], t);
      k.swigluJoined(out, dev(k, [rows, 2 * F], gu, t));
      return [k.toFloat32(out)];
    });
    close('swigluJoined', g[0]!, c[0]!, tolOf(dt, 2e-4));
    const halves = (at: number) => Float32Array.from({ length: rows * F }, (_, i) => gu[(2 * Math.floor(i / F) + at) * F + (i % F)]!);
    const apart = gpu!.alloc([rows, F], dt);
    gpu!.swiglu(apart, dev(gpu!, [rows, F], halves(0), dt), dev(gpu!, [rows, F], halves(1), dt));
    assert.ok(Buffer.from(gpu!.toFloat32(apart).buffer).equals(Buffer.from(g[0]!.buffer)), 'not the bits of swiglu on the halves');
  });
}

test('cuda bf16: decode-sized products (1 to 8 rows: linear with bias, LM head to fp32) match the CPU, and a row does not depend on the others', { skip }, () => {
  const K = 768, N = 2309, V = 50_001;
  for (const M of [1, 3, 8]) {
    const x = roundBf16(randn(M * K, 11 + M)), w = roundBf16(randn(N * K, 12, 0.05)), b = roundBf16(randn(N, 13)), head = roundBf16(randn(V * K, 14, 0.05));
    const [g, c] = both('bf16', (k, t) => {
      const X = dev(k, [M, K], x, t), Y = k.alloc([M, N], t), L = k.alloc([M, V]);
      k.linear(Y, X, dev(k, [N, K], w, t), dev(k, [N], b, t));
      k.gemm(L, X, dev(k, [V, K], head, t), { transB: true });
      return [k.toFloat32(Y), k.toFloat32(L)];
    });
    close(`linear M=${M}`, g[0]!, c[0]!, 1e-2);
    close(`head M=${M}`, g[1]!, c[1]!, 1e-4);
  }
  // the first row's logits alone and among seven others are the same bits
  const rows = roundBf16(randn(8 * K, 21)), head = roundBf16(randn(V * K, 22, 0.05));
  const W = dev(gpu!, [V, K], head, 'bf16');
  const logits = (m: number) => {
    const L = gpu!.alloc([m, V]);
    gpu!.gemm(L, dev(gpu!, [m, K], rows.subarray(0, m * K), 'bf16'), W, { transB: true });
    return gpu!.toFloat32(L).subarray(0, V);
  };
  assert.deepEqual(logits(1), logits(8));
});

test('cuda bf16: batch-invariant mode gives a row the same bits among 1, 20 or 45 rows (products with bias, the LM head, decode attention)', { skip }, () => {
  const k = gpu!;
  const K = 768, N = 2309, V = 50_001, most = 45;
  const x = roundBf16(randn(most * K, 31)), w = dev(k, [N, K], roundBf16(randn(N * K, 32, 0.05)), 'bf16');
  const b = dev(k, [N], roundBf16(randn(N, 33)), 'bf16'), head = dev(k, [V, K], roundBf16(randn(V * K, 34, 0.05)), 'bf16');
  // row `at` of x as the row `at` of an m-row product
  const products = (m: number, at: number) =>
    k.batchInvariant(() => {
      const X = dev(k, [m, K], x.subarray(0, m * K), 'bf16'), Y = k.alloc([m, N], 'bf16'), L = k.alloc([m, V]);
      k.linear(Y, X, w, b);
      k.gemm(L, X, head, { transB: true });
      return [k.toFloat32(Y).subarray(at * N, (at + 1) * N), k.toFloat32(L).subarray(at * V, (at + 1) * V)];
    });
  const alone = (at: number) =>
    k.batchInvariant(() => {
      const X = dev(k, [1, K], x.subarray(at * K, (at + 1) * K), 'bf16'), Y = k.alloc([1, N], 'bf16'), L = k.alloc([1, V]);
      k.linear(Y, X, w, b);
      k.gemm(L, X, head, { transB: true });
      return [k.toFloat32(Y), k.toFloat32(L)];
    });
  for (const [m, at] of [[20, 19], [45, 37], [45, 0]] as const) {
    const [y, l] = products(m, at), [y1, l1] = alone(at);
    assert.deepEqual(y, y1, `linear row ${at} of ${m}`);
    assert.deepEqual(l, l1, `head row ${at} of ${m}`);
  }
  // and they are still the product: row 37 of 45 against the CPU
  const [y] = products(45, 37);
  const want = cpu.alloc([1, N]);
  cpu.linear(want, dev(cpu, [1, K], x.subarray(37 * K, 38 * K)), dev(cpu, [N, K], k.toFloat32(w)), dev(cpu, [N], k.toFloat32(b)));
  close('invariant linear against the CPU', y!, cpu.toFloat32(want), 1e-2);
  // decode attention: a query of slot 2 at position 250 alone, and as row 5 of 12
  const S = 4, T = 300, Hq = 14, Hkv = 2, D = 64;
  const Kc = dev(k, [S, T, Hkv, D], roundBf16(randn(S * T * Hkv * D, 35)), 'bf16'), Vc = dev(k, [S, T, Hkv, D], roundBf16(randn(S * T * Hkv * D, 36)), 'bf16');
  const q = roundBf16(randn(12 * Hq * D, 37));
  const attend = (B: number, row: number, slotOf: (i: number) => number) =>
    k.batchInvariant(() => {
      const O = k.alloc([B, 1, Hq, D], 'bf16');
      const qs = B === 1 ? q.subarray(row * Hq * D, (row + 1) * Hq * D) : q;
      const pos = Int32Array.from({ length: B }, (_, i) => (B === 1 || i === row ? 250 : 40 + 17 * i));
      k.attentionDecode(O, dev(k, [B, 1, Hq, D], qs, 'bf16'), Kc, Vc, dev(k, [B], pos), { slot: dev(k, [B], Int32Array.from({ length: B }, (_, i) => slotOf(i))), workspace: k.alloc([decodeWorkspace(B, 1, Hq, D, T)]) });
      const out = k.toFloat32(O);
      return B === 1 ? out : out.subarray(row * Hq * D, (row + 1) * Hq * D);
    });
  assert.deepEqual(attend(12, 5, (i) => (i === 5 ? 2 : i % S)), attend(1, 5, () => 2), 'decode attention row 5 of 12');
});

test('cuda: casts are bit-exact, reductions, AdamW with clipping and a bf16 working copy', { skip }, () => {
  const n = 1 << 20, p = randn(n, 17), gr = randn(n, 18);
  const [g, c] = both('f32', (k) => {
    const F = dev(k, [n], p), H = k.alloc([n], 'bf16');
    k.cast(H, F);
    const bits = Float32Array.from(k.download(H) as Uint16Array);
    const P = dev(k, [n], p), G = dev(k, [n], gr), M = k.alloc([n]), Vv = k.alloc([n]), W = k.alloc([n], 'bf16');
    const ss = k.alloc([1]), norm = k.alloc([1]), coef = k.alloc([1]), sum = k.alloc([1]);
    k.sumsq(ss, G);
    k.sum(sum, G);
    k.clipCoefficient(coef, norm, ss, 100);
    for (let step = 1; step <= 3; step++) k.adamw(P, G, M, Vv, { lr: 1e-3, weightDecay: 0.1, step, gradScale: coef, working: W });
    return [bits, k.toFloat32(P), k.toFloat32(W), k.toFloat32(norm), k.toFloat32(sum)];
  });
  assert.deepEqual(g[0], c[0], 'bf16 bits');
  close('adamw master', g[1], c[1], 1e-5);
  close('adamw bf16 copy', g[2], c[2], 1e-2);
  close('grad norm', g[3], c[3], 1e-4);
  assert.ok(Math.abs(g[4][0] - c[4][0]) < 1, `sum ${g[4][0]} vs ${c[4][0]}`);
});

// Sums over tokens (the embedding, bias and norm-weight gradients, the gradient norm) add per-block
// partial sums in a fixed order, so a training step repeats bit for bit.
test('cuda: gradient sums over tokens match the CPU and are bit-identical from call to call (embedding, bias, norm weight, sum of squares)', { skip }, () => {
  const N = 8192, C = 1024, V = 50, F = 256; // 50 ids: each table row gathers about 160 positions
  const dy = randn(N * C, 50), x = randn(N * C, 51), w = randn(C, 52), wl = randn(F * C, 53, 0.05), dyl = randn(N * F, 54);
  const ids = randint(N, V, 55);
  ids[N - 1] = V - 1;
  const run = (k: Backend, t: DType): Float32Array[] => {
    const dE = k.alloc([V, C]), DY = dev(k, [N, C], dy, t), X = dev(k, [N, C], x, t), W = dev(k, [C], w, t);
    k.embeddingBackward(dE, DY, dev(k, [N], ids));
    const Y = k.alloc([N, C], t), R = k.alloc([N]), dX = k.alloc([N, C], t), dW = k.alloc([C]);
    k.rmsnorm(Y, R, X, W, 1e-6);
    k.rmsnormBackward(dX, dW, DY, X, W, R);
    const dWl = k.alloc([F, C]), dB = k.alloc([F]);
    k.linearBackward(null, dWl, dB, dev(k, [N, F], dyl, t), X, dev(k, [F, C], wl, t));
    const ss = k.alloc([1]);
    k.sumsq(ss, DY);
    k.sumsq(ss, X, true);
    return [dE, dW, dB, ss].map((z) => k.toFloat32(z));
  };
  const names = ['embedding dtable', 'rmsnorm dw', 'linear db', 'sum of squares'];
  const want = run(cpu, 'f32');
  for (const dt of ['f32', 'bf16'] as DType[]) {
    const first = run(gpu!, dt);
    first.forEach((got, i) => close(`${dt} ${names[i]}`, got, want[i]!, tolOf(dt, 1e-5)));
    for (let call = 2; call <= 5; call++)
      run(gpu!, dt).forEach((got, i) => assert.ok(Buffer.from(got.buffer).equals(Buffer.from(first[i]!.buffer)), `${dt} call ${call}: ${names[i]} changed`));
  }
});

test('cuda: sampling agrees with the CPU (greedy and log-probabilities exactly; top-k/top-p on nearly every row), on peaked and flat rows', { skip }, () => {
  // an odd width, as the 151,851 drawable ids of a padded Qwen head: rows off 16-byte boundaries
  const B = 64, V = 32003;
  const history = randint(B * 8, V, 20);
  const settings = [{ temperature: 0 }, { temperature: 1 }, { temperature: 0.8, topK: 50 }, { temperature: 1, topP: 0.9 }, { temperature: 0.7, topK: 40, topP: 0.95, repetitionPenalty: 1.3 }, { temperature: 1, topP: 0.999 }];
  // spread 3: top-p's kept set fits the candidates near the maximum; 0.3: too flat for them, so
  // the bound comes from bins of distance to the maximum; 0.003: one bin too crowded to gather
  // (bisection over the whole row)
  for (const [spread, opts] of [3, 0.3, 0.003].flatMap((x) => settings.map((o) => [x, o] as const))) {
    const logits = randn(B * V, 19, spread);
    const rows = Array.from({ length: B }, (_, b): SampleRow => ({ topP: 1, repetitionPenalty: 1, topK: 0, ...opts, seed: 99 + b, counter: 7, historyRow: b, historyLength: 6 }));
    const [g, c] = both('f32', (k) => {
      const O = k.alloc([B], 'i32'), LP = k.alloc([B]), H = dev(k, [B, 8], history);
      k.sample(O, dev(k, [B, V], logits), dev(k, [B * SAMPLE_ROW_WORDS], packSampleRows(rows)), { logprobs: LP, history: H });
      return [k.toFloat32(O), k.toFloat32(LP), k.toFloat32(H)];
    });
    const same = g[0].filter((t, i) => t === c[0][i]).length;
    const what = `spread ${spread} ${JSON.stringify(opts)}`;
    assert.ok(same >= (opts.temperature === 0 ? B : B - 2), `${what}: ${same}/${B} rows agree`);
    g[1].forEach((lp, i) => g[0][i] === c[0][i] && assert.ok(Math.abs(lp - c[1][i]!) < 1e-4, `${what}: row ${i} log-prob ${lp} vs ${c[1][i]}`));
    assert.deepEqual(Array.from(g[2]).filter((_, i) => i % 8 === 6), Array.from(g[0]), 'the drawn tokens are appended to the history');
  }
});

test('cuda: a graph replays a recorded sequence of kernels on new data', { skip }, () => {
  const k = gpu!;
  k.setStream(k.createStream());
  const x = k.alloc([1024]), y = k.alloc([1024]);
  k.upload(x, randn(1024, 5));
  k.add(y, x, x); // warm-up outside the capture
  const graph = k.captureGraph(() => {
    k.add(y, x, x);
    k.scale(y, 0.25);
  })!;
  for (const seed of [6, 7]) {
    const data = randn(1024, seed);
    k.upload(x, data);
    graph.launch();
    close('graph', k.toFloat32(y), data.map((v) => v / 2), 1e-7);
  }
  graph.destroy();
  k.setStream(0);
});

test('cuda: the 2-layer Qwen block agrees with the CPU (fp32 closely, bf16 loosely)', { skip }, () => {
  const cfg: BlockConfig = {
    vocab: 1000, dim: 128, heads: 4, kvHeads: 2, headDim: 32, ffn: 256, windows: [0, 48],
    batch: 2, seq: 96, eps: 1e-6, ropeBase: 1e6, lognLength: 64, chunk: 256,
  };
  const params = initParams(cfg, 200, 0.08);
  const batch = sampleBatch(cfg, 21);
  const ref = runModel(cpu, cpu.arena(64 << 20), cfg, params, batch, true);
  const arena = gpu!.arena(64 << 20);
  for (const dt of ['f32', 'bf16'] as DType[]) {
    const got = runModel(gpu!, arena, cfg, params, batch, true, dt);
    const tol = dt === 'f32' ? 1e-3 : 5e-2;
    assert.ok(Math.abs(got.loss - ref.loss) / ref.loss < (dt === 'f32' ? 1e-5 : 1e-2), `${dt} loss ${got.loss} vs ${ref.loss}`);
    for (const [name, grad] of ref.grads!) close(`${dt} ${name}`, got.grads!.get(name)!, grad, tol);
  }
});

test('cuda: streams order work, memInfo sees allocations, bad devices and shapes are errors that leave the backend usable', { skip }, () => {
  const k = gpu!;
  const before = k.memInfo();
  assert.ok(before.total > 1e9 && before.free > 0 && before.free <= before.total, JSON.stringify(before));
  const big = k.alloc([64 << 20]); // 256 MiB
  assert.ok(before.free - k.memInfo().free >= 200e6, 'a 256 MiB allocation shows in memInfo');
  k.free(big);

  const n = 1 << 20, x = randn(n, 31);
  const stream = k.createStream();
  assert.notEqual(stream, 0);
  k.setStream(stream);
  const xd = dev(k, [n], x), y = k.alloc([n]);
  k.copy(y, xd);
  k.scale(y, 2);
  k.add(y, y, xd); // y = 3x, queued on the new stream
  k.synchronize();
  k.setStream(0);
  k.destroyStream(stream);
  const got = k.toFloat32(y);
  assert.ok(got.every((v, i) => Math.abs(v - 3 * x[i]!) <= 1e-5 * Math.max(1, Math.abs(v))), 'y = 3x through a stream');

  assert.throws(() => openBackend('cuda:99'), /only \d+ CUDA device\(s\)/);
  // a shape the binding accepts but the CUDA library refuses: the library's own message comes back
  const [q, kk, v, o] = [0, 1, 2, 3].map(() => k.alloc([1, 64, 2, 256]));
  assert.throws(() => k.attention(o!, k.alloc([2 * 64]), q!, kk!, v!), /head dim 256 > 128 is not supported on CUDA/);
  k.copy(y, xd); // still usable after a reported error
  assert.deepEqual(k.toFloat32(y), Float32Array.from(x, (v) => Math.fround(v)));
});
