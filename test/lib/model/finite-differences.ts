// Central differences of a loss along the largest entries of a parameter's gradient: the check
// every backward in test/lib/model is held to.
import assert from 'node:assert/strict';
import type { Tensor } from '../../../kernels/index.js';
import type { Trainable } from '../../../lib/train/trainable.js';

export function checkAgainstFiniteDifferences(params: Trainable, name: string, f: () => number, what: string, picks = 3): void {
  const { k } = params;
  const host = (t: Tensor) => k.download(t) as Float32Array;
  const grad = host(params.grad(name)!);
  const master = params.master(name);
  const w = host(master);
  const largest = [...grad.keys()].sort((a, b) => Math.abs(grad[b]!) - Math.abs(grad[a]!)).slice(0, picks);
  assert.ok(Math.abs(grad[largest[0]!]!) > 1e-4, `${what}: ${name} has a gradient`);
  for (const i of largest) {
    const keep = w[i]!, h = 1e-2;
    const at = (x: number) => {
      w[i] = x;
      k.upload(master, w);
      return f();
    };
    const fd = (at(keep + h) - at(keep - h)) / (2 * h);
    at(keep);
    assert.ok(Math.abs(fd - grad[i]!) <= 3e-4 + 3e-2 * Math.abs(fd), `${what}: ${name}[${i}] backward ${grad[i]} vs finite difference ${fd}`);
  }
}
