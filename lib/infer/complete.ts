// Continuing a token sequence on a trunk with an LM head, a token at a time. It runs the whole
// prefix again for every token (no KV cache yet: that is the generate engine's job), which is
// fine for the few short answers a fine-tuning run samples at each evaluation.
import { logitsAt } from '../model/lm-head.js';
import type { Trunk } from '../model/trunk.js';
import { createRandom } from '../util/random.js';

export interface CompleteOptions {
  maxNew: number;
  /** 0: greedy (argmax); else softmax sampling at this temperature. */
  temperature: number;
  seed: number;
  /** Tokens that end the answer (not included). */
  stop: readonly number[];
}

export function complete(trunk: Trunk, prompt: ArrayLike<number>, o: CompleteOptions): number[] {
  const ids = Array.from(prompt);
  const out: number[] = [];
  const random = createRandom(o.seed);
  const room = Math.min(o.maxNew, trunk.capacity - ids.length);
  for (let i = 0; i < room; i++) {
    const T = ids.length;
    const logits = logitsAt(trunk, trunk.forward({ ids: Int32Array.from(ids), rows: 1, seqLen: T }), Int32Array.of(T - 1));
    const next = o.temperature > 0 ? draw(logits, o.temperature, random.next()) : argmax(logits);
    if (o.stop.includes(next)) break;
    ids.push(next);
    out.push(next);
  }
  return out;
}

function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
  return best;
}

/** The token whose cumulative softmax(x / temperature) first passes u. */
function draw(x: Float32Array, temperature: number, u: number): number {
  const m = x[argmax(x)]!;
  let total = 0;
  const p = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) total += p[i] = Math.exp((x[i]! - m) / temperature);
  let acc = 0;
  for (let i = 0; i < x.length; i++) if ((acc += p[i]!) > u * total) return i;
  return x.length - 1;
}
