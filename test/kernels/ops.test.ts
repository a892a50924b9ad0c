// Every CPU kernel against a TypeScript reference, and finite-difference checks of each backward.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cudaAvailability, dynamicRopeBase, lmHeadWorkspace, lognScale, openBackend, packSampleRows, parseDevice, ropeBase, SAMPLE_ROW_WORDS, type SampleOptions, type SampleRow } from '../../kernels/index.js';
import { assertClose, checkGradient, dotLoss, get, put, randn } from './helpers.js';
import { attentionRef, crossEntropyRef, linearRef, rmsnormRef, ropeRef, silu } from './reference.js';

const k = openBackend('cpu');

test('gemm matches the reference for every transpose, odd sizes, alpha and beta', () => {
  for (const [M, N, K] of [[1, 1, 1], [7, 33, 5], [37, 70, 129], [130, 17, 400]]) {
    for (const ta of [false, true])
      for (const tb of [false, true]) {
        const a = randn(M * K, 1), b = randn(K * N, 2), c0 = randn(M * N, 3);
        const A = put(k, ta ? [K, M] : [M, K], a), B = put(k, tb ? [N, K] : [K, N], b), C = put(k, [M, N], c0);
        k.gemm(C, A, B, { transA: ta, transB: tb, alpha: 0.5, beta: 2 });
        const ref = new Float64Array(M * N);
        for (let i = 0; i < M; i++)
          for (let j = 0; j < N; j++) {
            let s = 0;
            for (let p = 0; p < K; p++) s += (ta ? a[p * M + i] : a[i * K + p]) * (tb ? b[j * K + p] : b[p * N + j]);
            ref[i * N + j] = 0.5 * s + 2 * c0[i * N + j];
          }
        assertClose(get(k, C), ref, `gemm ${M}x${N}x${K} ta=${ta} tb=${tb}`, 1e-4, 1e-4);
      }
  }
});

test("a decode step's products (1 to 4 rows against a [N,K] weight) match the reference, with the same bits as those rows in a larger product", () => {
  const K = 1000, N = 37, rows = 16; // K spans three of the packed path's 384-wide blocks
  const x = randn(rows * K, 8), w = randn(N * K, 9), b = randn(N, 10);
  const W = put(k, [N, K], w), Bt = put(k, [N], b);
  const linear = (m: number) => {
    const Y = k.alloc([m, N]);
    k.linear(Y, put(k, [m, K], x.subarray(0, m * K)), W, Bt);
    return get(k, Y);
  };
  const logits = (m: number) => {
    const L = k.alloc([m, N]);
    k.gemm(L, put(k, [m, K], x.subarray(0, m * K)), W, { transB: true });
    return get(k, L);
  };
  const batchLinear = linear(rows), batchLogits = logits(rows);
  for (const m of [1, 2, 3, 4]) {
    assertClose(linear(m), linearRef(x, w, b, m, K, N), `linear, ${m} rows`);
    assert.deepEqual(linear(m), batchLinear.subarray(0, m * N), `linear, ${m} rows: the batch's bits`);
    assert.deepEqual(logits(m), batchLogits.subarray(0, m * N), `gemm, ${m} rows: the batch's bits`);
  }
});

test('linear forward matches x @ wᵀ + b and its backward matches finite differences', () => {
  const M = 6, K = 9, N = 5;
  const x = randn(M * K, 4), w = randn(N * K, 5), b = randn(N, 6), r = randn(M * N, 7);
  const X = put(k, [M, K], x), W = put(k, [N, K], w), Bt = put(k, [N], b), Y = k.alloc([M, N]);
  k.linear(Y, X, W, Bt);
  assertClose(get(k, Y), linearRef(x, w, b, M, K, N), 'linear');
  const dX = k.alloc([M, K]), dW = k.alloc([N, K]), dB = k.alloc([N]);
  k.fill(dW, 1); // backward accumulates into weight gradients
  k.linearBackward(dX, dW, dB, put(k, [M, N], r), X, W);
  const dw = get(k, dW).map((v) => v - 1);
  const loss = () => {
    k.upload(X, x), k.upload(W, w), k.upload(Bt, b);
    k.linear(Y, X, W, Bt);
    return dotLoss(get(k, Y), r);
  };
  checkGradient('dx', x, get(k, dX), loss);
  checkGradient('dw', w, dw, loss);
  checkGradient('db', b, get(k, dB), loss);
});

test('embedding gathers rows, scatters gradients (repeated ids add up) and rejects bad ids', () => {
  const V = 11, C = 6, ids = Int32Array.from([3, 0, 3, 10, 3]);
  const table = randn(V * C, 8), T = put(k, [V, C], table), I = put(k, [5], ids), O = k.alloc([5, C]);
  k.embedding(O, I, T);
  const out = get(k, O);
  ids.forEach((id, n) => assertClose(out.subarray(n * C, n * C + C), table.subarray(id * C, id * C + C), 'row'));
  const dT = k.alloc([V, C]);
  const g = randn(5 * C, 9);
  k.embeddingBackward(dT, put(k, [5, C], g), I);
  const dt = get(k, dT);
  for (let c = 0; c < C; c++) assert.ok(Math.abs(dt[3 * C + c] - (g[c] + g[2 * C + c] + g[4 * C + c])) < 1e-5);
  assert.equal(dt[1 * C], 0);
  assert.throws(() => k.embedding(O, put(k, [5], Int32Array.from([0, 1, 11, 2, 3])), T), /token id 11 at position 2 is outside the vocabulary \[0, 11\)/);
});

test('rmsnorm matches the reference and its backward matches finite differences', () => {
  const N = 5, C = 12, eps = 1e-6;
  const x = randn(N * C, 10), w = randn(C, 11), r = randn(N * C, 12);
  const X = put(k, [N, C], x), W = put(k, [C], w), Y = k.alloc([N, C]), R = k.alloc([N]);
  k.rmsnorm(Y, R, X, W, eps);
  assertClose(get(k, Y), rmsnormRef(x, w, N, C, eps), 'rmsnorm');
  const dX = k.alloc([N, C]), dW = k.alloc([C]);
  k.rmsnormBackward(dX, dW, put(k, [N, C], r), X, W, R);
  const loss = () => {
    k.upload(X, x), k.upload(W, w);
    k.rmsnorm(Y, R, X, W, eps);
    return dotLoss(get(k, Y), r);
  };
  checkGradient('dx', x, get(k, dX), loss);
  checkGradient('dw', w, get(k, dW), loss);
});

test('addRmsnorm has the bits of add then rmsnorm (odd widths) and refuses bf16 on the CPU', () => {
  const eps = 1e-6;
  for (const [N, C] of [[1, 37], [5, 37], [3, 1001]]) {
    const a = randn(N * C, 14), b = randn(N * C, 15, 3), w = randn(C, 16);
    const A = put(k, [N, C], a), B = put(k, [N, C], b), W = put(k, [C], w);
    const fused = [k.alloc([N, C]), k.alloc([N, C]), k.alloc([N])];
    k.addRmsnorm(fused[0], fused[1], fused[2], A, B, W, eps);
    const apart = [k.alloc([N, C]), k.alloc([N, C]), k.alloc([N])];
    k.add(apart[0], A, B);
    k.rmsnorm(apart[1], apart[2], apart[0], W, eps);
    ['sum', 'y', 'rstd'].forEach((what, i) =>
      assert.ok(Buffer.from(k.download(fused[i]!).buffer).equals(Buffer.from(k.download(apart[i]!).buffer)), `N=${N} C=${C}: ${what} differs from add then rmsnorm`),
    );
    assertClose(get(k, fused[1]!), rmsnormRef(Float32Array.from(a, (x, i) => x + b[i]!), w, N, C, eps), `N=${N} C=${C}: y`);
  }
  const h = (shape: number[]) => k.alloc(shape, 'bf16');
  assert.throws(() => k.addRmsnorm(h([2, 8]), h([2, 8]), k.alloc([2]), h([2, 8]), h([2, 8]), h([8]), eps), /fp32 only/);
  assert.throws(() => k.addRmsnorm(k.alloc([2, 8]), k.alloc([2, 8]), k.alloc([2]), k.alloc([2, 8]), k.alloc([2, 8]), k.alloc([7]), eps), /do not fit/);
});

test('rope rotates halves with fp32 inverse frequencies, LogN beyond the training length, and inverts', () => {
  const B = 2, T = 5, H = 3, D = 8, base = 10000;
  const x = randn(B * T * H * D, 13), pos = Int32Array.from([0, 1, 2, 7, 9]);
  const X = put(k, [B, T, H, D], x), P = put(k, [T], pos), O = k.alloc([B, T, H, D]);
  k.rope(O, X, P, { base });
  assertClose(get(k, O), ropeRef(x, pos, B, T, H, D, base), 'rope', 1e-4, 1e-5);
  k.rope(O, X, P, { base, lognLength: 4 });
  const scaled = ropeRef(x, pos, B, T, H, D, base, 4);
  assertClose(get(k, O), scaled, 'rope+logn', 1e-4, 1e-5);
  // positions 7 and 9 are beyond 4: scaled by log(8)/log(4) = 1.5 and log(10)/log(4)
  const plain = ropeRef(x, pos, B, T, H, D, base);
  const row = (3 * H) * D;
  assert.ok(Math.abs(scaled[row] / plain[row] - 1.5) < 1e-9);
  // per-token positions (batched decode): row b uses its own positions
  const perToken = Int32Array.from([0, 1, 2, 7, 9, 3, 4, 5, 6, 100]);
  k.rope(O, X, put(k, [B, T], perToken), { base, lognLength: 4 });
  const want = new Float64Array(x.length);
  for (let b = 0; b < B; b++) {
    const rows = T * H * D;
    want.set(ropeRef(x.subarray(b * rows, (b + 1) * rows), perToken.subarray(b * T, (b + 1) * T), 1, T, H, D, base, 4), b * rows);
  }
  assertClose(get(k, O), want, 'rope per-token positions', 1e-4, 1e-5);
  assert.throws(() => k.rope(O, X, put(k, [3], Int32Array.from([0, 1, 2])), { base }), /must hold 5 or 10 positions/);
  // the backward (inverse rotation) undoes the forward: the Jacobian is orthogonal
  k.rope(O, X, P, { base });
  k.rope(O, O, P, { base, inverse: true });
  assertClose(get(k, O), x, 'rope inverse', 1e-5, 1e-5);
  // rope is linear, so the gradient check is exact up to rounding
  const r = randn(x.length, 14), dX = k.alloc([B, T, H, D]);
  k.rope(dX, put(k, [B, T, H, D], r), P, { base, lognLength: 4, inverse: true });
  checkGradient('dx', x, get(k, dX), () => {
    k.upload(X, x);
    k.rope(O, X, P, { base, lognLength: 4 });
    return dotLoss(get(k, O), r);
  });
});

test('rope with per-token bases (dynamic NTK): each token rotated with the base of its sequence length, LogN on top, and inverts', () => {
  const B = 2, T = 4, H = 2, D = 16, base = 10000, trainLen = 4;
  const x = randn(B * T * H * D, 21);
  // row 0 decodes positions 3..6 of a growing sequence, row 1 positions 9..12: a base per token from its length
  const pos = Int32Array.from([3, 4, 5, 6, 9, 10, 11, 12]);
  const bases = Float32Array.from(pos, (p) => ropeBase(base, D, p + 1, trainLen));
  assert.deepEqual([...new Set(bases)].length, 3, 'lengths 4, 5..8 and 9..13 give three bases');
  const X = put(k, [B, T, H, D], x), P = put(k, [B, T], pos), O = k.alloc([B, T, H, D]), Bs = put(k, [B * T], bases);
  k.rope(O, X, P, { base, bases: Bs, lognLength: trainLen });
  const want = new Float64Array(x.length);
  for (let b = 0; b < B; b++) {
    const rows = T * H * D, at = (a: ArrayLike<number> & { subarray(s: number, e: number): ArrayLike<number> }) => a.subarray(b * T, (b + 1) * T);
    want.set(ropeRef(x.subarray(b * rows, (b + 1) * rows), at(pos), 1, T, H, D, at(bases), trainLen), b * rows);
  }
  assertClose(get(k, O), want, 'rope per-token bases', 1e-4, 1e-5);
  // the bases matter: the first token (length 4, within training) keeps the base, the others differ from it
  const shared = ropeRef(x, pos.subarray(0, T), 1, T, H, D, base, trainLen);
  assert.ok(Math.abs(get(k, O)[0]! - shared[0]!) < 1e-5);
  assert.ok(Math.abs(get(k, O)[T * H * D - 1]! - shared[T * H * D - 1]!) > 1e-3);
  k.rope(O, O, P, { base, bases: Bs, lognLength: trainLen, inverse: true });
  const unscaled = Float64Array.from(x, (v, i) => v * lognScale(pos[Math.floor(i / (H * D))]!, trainLen) ** 2);
  assertClose(get(k, O), unscaled, 'rope per-token bases, inverse', 1e-4, 1e-5);
  // bases are indexed as positions are: shared positions [T] take T bases
  k.rope(O, X, put(k, [T], pos.subarray(0, T)), { base, bases: put(k, [T], bases.subarray(0, T)) });
  assertClose(get(k, O).subarray(T * H * D), ropeRef(x.subarray(T * H * D), pos.subarray(0, T), 1, T, H, D, bases.subarray(0, T)), 'shared positions and bases', 1e-4, 1e-5);
  assert.throws(() => k.rope(O, X, P, { base, bases: put(k, [T], bases.subarray(0, T)) }), /one base per position entry \(8\)/);
});

test('ropeBase applies Qwen dynamic NTK scaling only beyond the training length, dynamicRopeBase transformers\' dynamic scaling', () => {
  assert.equal(ropeBase(10000, 128, 2048, 2048), 10000);
  // 4096/2048: alpha = 2^ceil(1 + 1) - 1 = 3
  assert.ok(Math.abs(ropeBase(10000, 128, 4096, 2048) - 10000 * 3 ** (128 / 126)) < 1e-6);
  // 3000/2048: log2 = 0.55 -> ceil(1.55) = 2 -> alpha 3
  assert.ok(Math.abs(ropeBase(10000, 64, 3000, 2048) - 10000 * 3 ** (64 / 62)) < 1e-6);
  // transformers' dynamic scaling: factor 2 at twice the length gives (2·2 − 1)^(D/(D−2))
  assert.equal(dynamicRopeBase(10000, 64, 2048, 2048, 2), 10000);
  assert.ok(Math.abs(dynamicRopeBase(10000, 64, 4096, 2048, 2) - 10000 * 3 ** (64 / 62)) < 1e-6);
});

for (const { name, B, T, Hq, Hkv, D, window } of [
  { name: 'MHA', B: 2, T: 7, Hq: 2, Hkv: 2, D: 4, window: 0 },
  { name: 'GQA', B: 1, T: 9, Hq: 4, Hkv: 2, D: 8, window: 0 },
  { name: 'sliding window', B: 1, T: 9, Hq: 2, Hkv: 1, D: 4, window: 3 },
  { name: 'many key blocks', B: 1, T: 150, Hq: 1, Hkv: 1, D: 16, window: 0 },
]) {
  test(`attention (${name}) matches softmax attention and its backward matches finite differences`, () => {
    const q = randn(B * T * Hq * D, 15), kk = randn(B * T * Hkv * D, 16), v = randn(B * T * Hkv * D, 17);
    const Q = put(k, [B, T, Hq, D], q), K = put(k, [B, T, Hkv, D], kk), Vt = put(k, [B, T, Hkv, D], v);
    const O = k.alloc([B, T, Hq, D]), L = k.alloc([B, Hq, T]);
    k.attention(O, L, Q, K, Vt, { window });
    assertClose(get(k, O), attentionRef(q, kk, v, B, T, Hq, Hkv, D, window), 'attention', 1e-4, 1e-5);
    if (T > 20) return; // the finite differences below are O(T^2) forwards
    const r = randn(O.numel, 18);
    const dQ = k.alloc(Q.shape as number[]), dK = k.alloc(K.shape as number[]), dV = k.alloc(Vt.shape as number[]);
    k.attentionBackward(dQ, dK, dV, put(k, O.shape as number[], r), O, L, Q, K, Vt, k.alloc([B * Hq * T]), { window });
    const loss = () => {
      k.upload(Q, q), k.upload(K, kk), k.upload(Vt, v);
      k.attention(O, L, Q, K, Vt, { window });
      return dotLoss(get(k, O), r);
    };
    checkGradient('dq', q, get(k, dQ), loss);
    checkGradient('dk', kk, get(k, dK), loss);
    checkGradient('dv', v, get(k, dV), loss);
  });
}

test('attention over packed rows: each sequence attends as it would alone; the backward matches finite differences', () => {
  const B = 1, T = 10, Hq = 2, Hkv = 1, D = 4, lengths = [3, 1, 6];
  const start = new Int32Array(T), end = new Int32Array(T);
  let at = 0;
  for (const len of lengths) (start.fill(at, at, at + len), end.fill(at + len, at, at + len), (at += len));
  const sequences = { start: put(k, [T], start), end: put(k, [T], end) };
  const q = randn(T * Hq * D, 25), kk = randn(T * Hkv * D, 26), v = randn(T * Hkv * D, 27);
  const Q = put(k, [B, T, Hq, D], q), K = put(k, [B, T, Hkv, D], kk), Vt = put(k, [B, T, Hkv, D], v);
  const O = k.alloc([B, T, Hq, D]), L = k.alloc([B, Hq, T]);
  k.attention(O, L, Q, K, Vt, { sequences });
  const out = get(k, O);
  at = 0;
  for (const len of lengths) {
    const part = (x: Float32Array, H: number) => x.subarray(at * H * D, (at + len) * H * D);
    assertClose(out.subarray(at * Hq * D, (at + len) * Hq * D), attentionRef(part(q, Hq), part(kk, Hkv), part(v, Hkv), 1, len, Hq, Hkv, D), `sequence at ${at}`, 1e-4, 1e-5);
    at += len;
  }
  const r = randn(O.numel, 28);
  const dQ = k.alloc(Q.shape as number[]), dK = k.alloc(K.shape as number[]), dV = k.alloc(Vt.shape as number[]);
  k.attentionBackward(dQ, dK, dV, put(k, O.shape as number[], r), O, L, Q, K, Vt, k.alloc([B * Hq * T]), { sequences });
  const loss = () => {
    k.upload(Q, q), k.upload(K, kk), k.upload(Vt, v);
    k.attention(O, L, Q, K, Vt, { sequences });
    return dotLoss(get(k, O), r);
  };
  checkGradient('dq', q, get(k, dQ), loss);
  checkGradient('dk', kk, get(k, dK), loss);
  checkGradient('dv', v, get(k, dV), loss);
});

test('KV cache: appended keys and values, decoded one query or several, equal full attention', () => {
  const B = 2, T = 6, Tmax = 10, Hq = 4, Hkv = 2, D = 8, S = 3;
  const q = randn(B * T * Hq * D, 19), kk = randn(B * T * Hkv * D, 20), v = randn(B * T * Hkv * D, 21);
  // sequence 0 lives in slot 2 and sequence 1 in slot 0 (rows and slots need not line up)
  const slotOf = [2, 0];
  const K = k.alloc([S, Tmax, Hkv, D]), Vc = k.alloc([S, Tmax, Hkv, D]);
  const slots = Int32Array.from({ length: B * T }, (_, n) => slotOf[Math.floor(n / T)]!);
  const positions = Int32Array.from({ length: B * T }, (_, n) => n % T);
  k.kvAppend(K, Vc, put(k, [B * T, Hkv, D], kk), put(k, [B * T, Hkv, D], v), put(k, [B * T], slots), put(k, [B * T], positions));
  for (const window of [0, 3]) {
    const full = attentionRef(q, kk, v, B, T, Hq, Hkv, D, window);
    const rowsOf = (b: number, from: number, to: number) => full.subarray((b * T + from) * Hq * D, (b * T + to) * Hq * D);
    // one query per row: sequence 0 at its last position, sequence 1 one earlier (its cache holds a
    // later key it must not see)
    const pos = Int32Array.from([T - 1, T - 2]);
    const qd = new Float32Array(B * Hq * D);
    for (let b = 0; b < B; b++) qd.set(q.subarray((b * T + pos[b]!) * Hq * D, (b * T + pos[b]! + 1) * Hq * D), b * Hq * D);
    const O = k.alloc([B, 1, Hq, D]);
    k.attentionDecode(O, put(k, [B, 1, Hq, D], qd), K, Vc, put(k, [B], pos), { window, slot: put(k, [B], Int32Array.from(slotOf)) });
    const out = get(k, O);
    assertClose(out.subarray(0, Hq * D), rowsOf(0, T - 1, T), `decode b0 window ${window}`);
    assertClose(out.subarray(Hq * D), rowsOf(1, T - 2, T - 1), `decode b1 window ${window}`);
    // three queries after a cached prefix of 3 (prefill over a cache), and a padding row
    const Tq = 3;
    const O3 = k.alloc([2, Tq, Hq, D]);
    const q3 = new Float32Array(2 * Tq * Hq * D);
    q3.set(q.subarray(3 * Hq * D, 6 * Hq * D));
    k.attentionDecode(O3, put(k, [2, Tq, Hq, D], q3), K, Vc, put(k, [2], Int32Array.from([3, 0])), { window, slot: put(k, [2], Int32Array.from([2, -1])) });
    const out3 = get(k, O3);
    assertClose(out3.subarray(0, Tq * Hq * D), rowsOf(0, 3, 6), `prefill over the cache, window ${window}`);
    assert.ok(out3.subarray(Tq * Hq * D).every((x) => x === 0), 'a padding row gets zeros');
  }
  assert.throws(() => k.attentionDecode(k.alloc([1, 1, Hq, D]), k.alloc([1, 1, Hq, D]), K, Vc, put(k, [1], Int32Array.of(Tmax))), /outside/);
});

test("ropeAppend has the bits of rope on a decode step's queries and keys, then kvAppend (LogN, per-token bases, GQA, a skipped slot)", () => {
  const N = 3, Hq = 4, Hkv = 2, D = 8, S = 3, Tmax = 40, W = (Hq + 2 * Hkv) * D;
  const qkv = randn(N * W, 31), pos = Int32Array.from([5, 37, 12]), slot = Int32Array.from([2, 0, -1]);
  const bases = Float32Array.from([1e4, 2.5e4, 1e4]);
  const opts = (logn: number) => ({ base: 1e4, bases: put(k, [N], bases), lognLength: logn });
  const cache = () => {
    const t = k.alloc([S, Tmax, Hkv, D]);
    k.zero(t);
    return t;
  };
  const fused = () => {
    const q = k.alloc([N, 1, Hq, D]), kc = cache(), vc = cache();
    k.ropeAppend(q, kc, vc, put(k, [N, W], qkv), put(k, [N], pos), put(k, [N], slot), opts(16));
    return [q, kc, vc].map((t) => get(k, t));
  };
  const apart = () => {
    const part = (from: number, heads: number) => {
      const out = new Float32Array(N * heads * D);
      for (let n = 0; n < N; n++) out.set(qkv.subarray(n * W + from * D, n * W + (from + heads) * D), n * heads * D);
      return out;
    };
    const q = put(k, [N, 1, Hq, D], part(0, Hq)), kk = put(k, [N, 1, Hkv, D], part(Hq, Hkv)), v = put(k, [N, 1, Hkv, D], part(Hq + Hkv, Hkv));
    const P = put(k, [N], pos);
    k.rope(q, q, P, opts(16));
    k.rope(kk, kk, P, opts(0));
    const kc = cache(), vc = cache();
    k.kvAppend(kc, vc, kk.view([N, Hkv, D]), v.view([N, Hkv, D]), put(k, [N], slot), P);
    return [q, kc, vc].map((t) => get(k, t));
  };
  const [a, b] = [fused(), apart()];
  ['queries', 'key cache', 'value cache'].forEach((what, i) => assert.ok(Buffer.from(a[i]!.buffer).equals(Buffer.from(b[i]!.buffer)), what));
  assert.ok(a[0]!.some((x, i) => x !== qkv[Math.floor(i / (Hq * D)) * W + (i % (Hq * D))]), 'the queries were rotated');
  assert.throws(() => k.ropeAppend(k.alloc([N, 1, Hq, D]), k.alloc([S, Tmax, Hkv, D]), k.alloc([S, Tmax, Hkv, D]), k.alloc([N, W - D]), put(k, [N], pos), put(k, [N], slot), opts(0)), /do not fit/);
});

test('swiglu, residual add, scale, axpy, fill and reductions', () => {
  const n = 37, g = randn(n, 22), u = randn(n, 23), r = randn(n, 24);
  const G = put(k, [n], g), U = put(k, [n], u), O = k.alloc([n]);
  k.swiglu(O, G, U);
  assertClose(get(k, O), Array.from(g, (x, i) => silu(x) * u[i]), 'swiglu');
  const dG = k.alloc([n]), dU = k.alloc([n]);
  k.swigluBackward(dG, dU, put(k, [n], r), G, U);
  const loss = () => {
    k.upload(G, g), k.upload(U, u);
    k.swiglu(O, G, U);
    return dotLoss(get(k, O), r);
  };
  checkGradient('dgate', g, get(k, dG), loss);
  checkGradient('dup', u, get(k, dU), loss);
  // rows of a joined gate/up product: the bits of swiglu on each row's halves
  const rows = 3, F = 5, gu = randn(rows * 2 * F, 25), J = k.alloc([rows, F]);
  k.swigluJoined(J, put(k, [rows, 2 * F], gu));
  const apart = Array.from({ length: rows }, (_, row) => {
    const half = (at: number) => put(k, [F], gu.subarray((2 * row + at) * F, (2 * row + at + 1) * F));
    const out = k.alloc([F]);
    k.swiglu(out, half(0), half(1));
    return [...get(k, out)];
  }).flat();
  assert.deepEqual([...get(k, J)], apart, 'swigluJoined');
  assert.throws(() => k.swigluJoined(k.alloc([rows, F]), k.alloc([rows, 2 * F + 1])), /swigluJoined/);

  k.add(O, G, U);
  assertClose(get(k, O), Array.from(g, (x, i) => x + u[i]), 'add');
  k.axpy(O, -2, U);
  k.scale(O, 3);
  assertClose(get(k, O), Array.from(g, (x, i) => 3 * (x - u[i])), 'axpy+scale');
  const S = k.alloc([1]);
  k.sum(S, G);
  assert.ok(Math.abs(get(k, S)[0] - g.reduce((a, b) => a + b, 0)) < 1e-4);
  k.sumsq(S, G);
  k.sumsq(S, U, true);
  assert.ok(Math.abs(get(k, S)[0] - [...g, ...u].reduce((a, b) => a + b * b, 0)) < 1e-3);
  k.fill(O, 2.5);
  assert.deepEqual([...get(k, O)], new Array(n).fill(2.5));
});

test('dropout keeps 1-p of the elements scaled by 1/(1-p), is seeded, and its backward reuses the mask', () => {
  const n = 20000, p = 0.25, x = randn(n, 25);
  const X = put(k, [n], x), O = k.alloc([n]), O2 = k.alloc([n]);
  k.dropout(O, X, p, 42);
  const out = get(k, O);
  let kept = 0;
  out.forEach((v, i) => {
    if (v !== 0) kept++, assert.ok(Math.abs(v - x[i] / (1 - p)) < 1e-5);
  });
  assert.ok(Math.abs(kept / n - (1 - p)) < 0.015, `kept ${kept / n}`);
  k.dropout(O2, X, p, 42);
  assert.deepEqual(get(k, O2), out);
  k.dropout(O2, X, p, 43);
  assert.notDeepEqual(get(k, O2), out);
  const ones = put(k, [n], new Float32Array(n).fill(1)), dX = k.alloc([n]);
  k.dropoutBackward(dX, ones, p, 42);
  get(k, dX).forEach((g, i) => assert.equal(g !== 0, out[i] !== 0 || x[i] === 0));
});

test('bf16 casts round to nearest even and survive a round trip', () => {
  const vals = Float32Array.from([1, -2.5, 3.14159, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 65504, 1e-20, 0]);
  const F = put(k, [vals.length], vals), H = k.alloc([vals.length], 'bf16'), F2 = k.alloc([vals.length]);
  k.cast(H, F);
  const bits = k.download(H) as Uint16Array;
  assert.equal(bits[0], 0x3f80);
  assert.equal(bits[1], 0xc020);
  assert.equal(bits[3], 0x3f80); // 1 + 2^-8 is a tie: rounds to even (1.0)
  assert.equal(bits[4], 0x3f82); // 1 + 3*2^-8 is a tie: rounds to even (1 + 2^-6)
  k.cast(F2, H);
  const back = get(k, F2);
  vals.forEach((v, i) => assert.ok(Math.abs(back[i] - v) <= Math.abs(v) * 2 ** -8, `${v} -> ${back[i]}`));
  assert.throws(() => k.linear(k.alloc([1, 1], 'bf16'), H.view([1, 8]), k.alloc([1, 8], 'bf16')), /fp32 only/);
});

test('lmHeadCE: chunked loss equals full-logit cross-entropy; gradients match finite differences', () => {
  const N = 6, C = 8, V = 50, chunk = 16;
  const h = randn(N * C, 26), w = randn(V * C, 27, 0.5), targets = Int32Array.from([3, 49, -100, 0, 17, 16]);
  const H = put(k, [N, C], h), W = put(k, [V, C], w), Tg = put(k, [N], targets), Ls = k.alloc([N]);
  const ws = k.alloc([lmHeadWorkspace(N, C, chunk, V)]);
  const dH = k.alloc([N, C]), dW = k.alloc([V, C]);
  const scale = 1 / 5; // five counted tokens
  k.lmHeadCE(Ls, dH, dW, H, W, Tg, { chunk, workspace: ws, gradScale: scale });
  const ref = crossEntropyRef(h, w, targets, N, C, V);
  assertClose(get(k, Ls), ref, 'losses', 1e-4, 1e-5);
  assert.equal(get(k, Ls)[2], 0);
  const loss = () => {
    k.upload(H, h), k.upload(W, w);
    k.lmHeadCE(Ls, null, null, H, W, Tg, { chunk, workspace: ws });
    return get(k, Ls).reduce((a, b) => a + b, 0) * scale;
  };
  checkGradient('dh', h, get(k, dH), loss, { count: 20 });
  checkGradient('dw', w, get(k, dW), loss, { count: 30 });
  // the ignored row gets no gradient
  assert.deepEqual([...get(k, dH).subarray(2 * C, 3 * C)], new Array(C).fill(0));
  assert.throws(() => k.lmHeadCE(Ls, null, null, H, W, put(k, [N], Int32Array.from([0, 0, 50, 0, 0, 0])), { chunk, workspace: ws }), /target 50 at position 2/);
});

test('adamw matches the textbook update with decoupled weight decay, clipping and a bf16 copy', () => {
  const n = 10, lr = 0.01, b1 = 0.9, b2 = 0.95, eps = 1e-8, wd = 0.1;
  const p = randn(n, 28), g = randn(n, 29);
  const P = put(k, [n], p), G = put(k, [n], g), M = k.alloc([n]), Vv = k.alloc([n]), Wk = k.alloc([n], 'bf16');
  // clip coefficient from the global norm, on device
  const ss = k.alloc([1]), norm = k.alloc([1]), coef = k.alloc([1]);
  k.sumsq(ss, G);
  k.clipCoefficient(coef, norm, ss, 1.0);
  const gnorm = Math.sqrt(g.reduce((a, b) => a + b * b, 0));
  assert.ok(Math.abs(get(k, norm)[0] - gnorm) < 1e-4);
  const c = Math.min(1, 1 / (gnorm + 1e-6));
  assert.ok(Math.abs(get(k, coef)[0] - c) < 1e-6);
  const ref = Float64Array.from(p), m = new Float64Array(n), v = new Float64Array(n);
  for (let step = 1; step <= 3; step++) {
    k.adamw(P, G, M, Vv, { lr, beta1: b1, beta2: b2, eps, weightDecay: wd, step, gradScale: coef, working: Wk });
    for (let i = 0; i < n; i++) {
      const gi = g[i] * c;
      m[i] = b1 * m[i] + (1 - b1) * gi;
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      ref[i] -= lr * (m[i] / (1 - b1 ** step) / (Math.sqrt(v[i] / (1 - b2 ** step)) + eps) + wd * ref[i]);
    }
  }
  assertClose(get(k, P), ref, 'adamw', 1e-5, 1e-6);
  assertClose(get(k, Wk), ref, 'bf16 working copy', 2 ** -8, 0);
});

const row = (o: Partial<SampleRow> = {}): SampleRow => ({ temperature: 1, topP: 1, repetitionPenalty: 1, topK: 0, seed: 0, counter: 0, historyRow: -1, historyLength: 0, ...o });

test('sample: greedy, top-k=1, repetition penalty, log-probabilities, and top-k/top-p frequencies', () => {
  const V = 6, logits = Float32Array.from([1, 3, 2, 0.5, 2.9, -1]);
  const L = put(k, [1, V], logits), O = k.alloc([1], 'i32');
  const draw = (r: SampleRow, opts: SampleOptions = {}) => {
    k.sample(O, L, put(k, [SAMPLE_ROW_WORDS], packSampleRows([r])), opts);
    return k.download(O)[0]!;
  };
  assert.equal(draw(row({ temperature: 0 })), 1);
  assert.equal(draw(row({ topK: 1, seed: 2 })), 1);
  // penalty 2 on token 1 (3 -> 1.5) makes token 4 the argmax; the drawn token is appended to the history
  const H = put(k, [2, 4], Int32Array.from([7, 7, 7, 7, 1, -1, 1, 0]));
  const LP = k.alloc([1]);
  assert.equal(draw(row({ temperature: 0, repetitionPenalty: 2, historyRow: 1, historyLength: 3 }), { history: H, logprobs: LP }), 4);
  assert.deepEqual(Array.from(k.download(H)), [7, 7, 7, 7, 1, -1, 1, 4]);
  // the log-probability is the raw logits' (no penalty): log softmax(logits)[4]
  const lse = Math.log(logits.reduce((a, x) => a + Math.exp(x), 0));
  assert.ok(Math.abs(get(k, LP)[0]! - (2.9 - lse)) < 1e-5);
  // frequencies over many streams (each seed is one independent draw)
  const trials = 3000;
  const counts = (opts: Partial<SampleRow>) => {
    const c = new Array(V).fill(0);
    for (let s = 0; s < trials; s++) c[draw(row({ seed: s, counter: 5, ...opts }))]++;
    return c.map((x) => x / trials);
  };
  const softmax = (keep: number[], temperature = 1) => {
    const e = Array.from(logits, (x, i) => (keep.includes(i) ? Math.exp(x / temperature) : 0));
    const z = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / z);
  };
  const near = (got: number[], want: number[], what: string) => got.forEach((g, i) => assert.ok(Math.abs(g - want[i]) < 0.04, `${what}: token ${i} ${g} vs ${want[i]}`));
  near(counts({ topK: 3 }), softmax([1, 4, 2]), 'top-k 3');
  // probs sorted: 1 (.39), 4 (.36), 2 (.14): mass before token 2 is .75 < .8, so {1, 4, 2}
  near(counts({ topP: 0.8 }), softmax([1, 4, 2]), 'top-p 0.8');
  near(counts({ topP: 0.5 }), softmax([1, 4]), 'top-p 0.5');
  near(counts({}), softmax([0, 1, 2, 3, 4, 5]), 'plain');
  near(counts({ temperature: 0.5 }), softmax([0, 1, 2, 3, 4, 5], 0.5), 'temperature 0.5');
});

test('sample: top-p keeps exactly the nucleus on large rows — peaked, flat, with ties — (the CPU sorts only the candidates)', () => {
  const V = 4096, draws = 400;
  const shapes: [string, Float32Array][] = [
    ['peaked', randn(V, 5, 6)],
    ['flat', randn(V, 6, 0.05)],
    ['ties', Float32Array.from({ length: V }, (_, i) => (i % 7 === 0 ? 2 : i % 3 === 0 ? 1 : -3))],
  ];
  for (const [what, logits] of shapes) {
    for (const topP of [0.3, 0.9, 0.999]) {
      // the nucleus by a full sort: whole groups of equal probability while the mass before them < top-p
      const p = Array.from(logits, (x) => Math.exp(x - Math.max(...logits)));
      const total = p.reduce((a, b) => a + b, 0);
      const order = [...p.keys()].sort((a, b) => p[b]! - p[a]!);
      const nucleus = new Set<number>();
      let before = 0;
      for (let s = 0; s < order.length; ) {
        let e = s, group = 0;
        while (e < order.length && p[order[e]!] === p[order[s]!]) group += p[order[e++]!]!;
        if (before < topP * total) for (let t = s; t < e; t++) nucleus.add(order[t]!);
        before += group;
        s = e;
      }
      const L = put(k, [1, V], logits), O = k.alloc([1], 'i32');
      const seen = new Set<number>();
      for (let seed = 0; seed < draws; seed++) {
        k.sample(O, L, put(k, [SAMPLE_ROW_WORDS], packSampleRows([row({ seed, topP })])));
        const t = k.download(O)[0]!;
        assert.ok(nucleus.has(t), `${what}, top-p ${topP}: token ${t} is outside the nucleus of ${nucleus.size}`);
        seen.add(t);
      }
      if (nucleus.size <= 8) assert.equal(seen.size, nucleus.size, `${what}, top-p ${topP}: every nucleus token is drawn`);
    }
  }
});

test('sample: a row draws the same token whatever the other rows of its batch are', () => {
  const V = 50, logits = randn(4 * V, 33, 2);
  const rows = [row({ seed: 11, counter: 3 }), row({ seed: 12, counter: 3, topP: 0.7 }), row({ seed: 11, counter: 4, topK: 5 }), row({ temperature: 0.3, seed: 9 })];
  const O = k.alloc([4], 'i32');
  k.sample(O, put(k, [4, V], logits), put(k, [4 * SAMPLE_ROW_WORDS], packSampleRows(rows)));
  const together = Array.from(k.download(O));
  rows.forEach((r, b) => {
    const one = k.alloc([1], 'i32');
    k.sample(one, put(k, [1, V], logits.subarray(b * V, (b + 1) * V)), put(k, [SAMPLE_ROW_WORDS], packSampleRows([r])));
    assert.equal(k.download(one)[0], together[b], `row ${b}`);
  });
});

test('shape, dtype and device mistakes are reported before reaching the kernels', () => {
  const x = k.alloc([4, 3]), w = k.alloc([5, 4]);
  assert.throws(() => k.linear(k.alloc([4, 5]), x, w), /do not fit y = x @ wᵀ \+ b/);
  assert.throws(() => k.embedding(k.alloc([2, 3]), k.alloc([2]), k.alloc([5, 3])), /should be i32/);
  assert.throws(() => openBackend('tpu'), /unknown device 'tpu'/);
});

test('device selection: auto falls back to the CPU, and asking for missing CUDA says why', () => {
  assert.deepEqual(parseDevice('cuda:3'), { kind: 'cuda', index: 3 });
  assert.deepEqual(parseDevice(undefined), { kind: 'auto', index: 0 });
  const cuda = cudaAvailability();
  if (cuda.ok) {
    assert.throws(() => openBackend(`cuda:${cuda.devices}`), /only \d+ CUDA device/);
  } else {
    assert.equal(openBackend('auto').device, 'cpu');
    assert.throws(() => openBackend('cuda'), /--device cuda asked for CUDA, but it is unavailable: kernels: /);
  }
});

test('arena marks and releases, views share memory, streams and memory info answer', () => {
  const arena = k.arena(4096);
  const a = arena.tensor([4, 4]);
  const mark = arena.mark();
  const b = arena.tensor([16]);
  arena.release(mark);
  const c = arena.tensor([16]);
  assert.equal(c.ptr, b.ptr, 'released space is handed out again');
  assert.ok(a.ptr + a.bytes <= b.ptr);
  assert.throws(() => arena.release(arena.used + 256), /is not below/);
  k.upload(a, Float32Array.from({ length: 16 }, (_, i) => i));
  assert.deepEqual([...get(k, a.rows(2, 3))], [8, 9, 10, 11]);
  assert.deepEqual(a.view([2, -1]).shape, [2, 8]);
  const s = k.createStream();
  k.setStream(s);
  k.scale(a, 2);
  k.synchronize();
  k.setStream(0);
  k.destroyStream(s);
  assert.equal(get(k, a)[15], 30);
  const mem = k.memInfo();
  assert.ok(mem.total > 0 && mem.free <= mem.total);
  k.freeArena(arena);
});
