// LOOM_PROFILE: every library call is counted and timed per op, linear layers keyed by shape, and
// the ops still compute what they compute unprofiled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { get, put, randn } from './helpers.js';

test('LOOM_PROFILE counts and times each op by name (linear by K×N) and leaves results unchanged', async () => {
  process.env.LOOM_PROFILE = '1'; // read when the backend opens, so before the first openBackend of this process
  const { openBackend } = await import('../../kernels/index.js');
  const k = openBackend('cpu');
  assert.ok(k.profile, 'the backend carries a profile');
  const x = put(k, [4, 8], randn(32, 1)), w = put(k, [16, 8], randn(128, 2)), y = k.alloc([4, 16]);
  k.profile.reset();
  k.linear(y, x, w);
  k.add(y, y, y);
  k.add(y, y, y);
  const ops = new Map(k.profile.report().map((o) => [o.op, o]));
  assert.equal(ops.get('linear_fwd 8x16')?.calls, 1);
  assert.equal(ops.get('add')?.calls, 2);
  for (const o of ops.values()) assert.ok(o.ms >= 0 && Number.isFinite(o.ms), `${o.op}: ${o.ms} ms`);
  const xs = randn(32, 1), ws = randn(128, 2);
  const expect = Array.from({ length: 64 }, (_, i) => {
    const [r, c] = [Math.floor(i / 16), i % 16];
    let s = 0;
    for (let j = 0; j < 8; j++) s += xs[r * 8 + j]! * ws[c * 8 + j]!;
    return 4 * s;
  });
  get(k, y).forEach((v, i) => assert.ok(Math.abs(v - expect[i]!) < 1e-4 * (1 + Math.abs(expect[i]!)), `y[${i}] = ${v}, expected ${expect[i]}`));
  k.profile.reset();
  assert.deepEqual(k.profile.report(), []);
});
