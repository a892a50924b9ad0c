import { UsageError } from '../errors.js';
import { detachLine } from '../io/lossless.js';
import type { Doc } from '../io/types.js';
import { defineStage } from '../stage.js';
import { createRandom } from '../util/random.js';

export interface SampleOptions {
  /** How many records to keep. */
  n: number;
  seed: number;
}

/**
 * Uniform reservoir sample of `n` records in one pass and O(n) memory (Li's Algorithm L, which
 * draws a random number per replacement rather than per record). Emitted in input order.
 */
export const sample = defineStage<SampleOptions>('sample', { n: 10, seed: 0 }, async function* (docs, opts) {
  if (!Number.isInteger(opts.n) || opts.n < 1) throw new UsageError(`sample: n must be a positive integer, got ${opts.n}`);
  const random = createRandom(opts.seed);
  const reservoir: { index: number; doc: Doc }[] = [];
  const uniform = () => random.next() || Number.MIN_VALUE; // (0, 1): log(0) would be -Infinity
  let w = Math.exp(Math.log(uniform()) / opts.n);
  let nextPick = opts.n + Math.floor(Math.log(uniform()) / Math.log(1 - w));
  let index = 0;
  for await (const doc of docs) {
    if (index < opts.n) {
      detachLine(doc);
      reservoir.push({ index, doc });
    } else if (index === nextPick) {
      detachLine(doc);
      reservoir[random.int(opts.n)] = { index, doc };
      w *= Math.exp(Math.log(uniform()) / opts.n);
      nextPick += 1 + Math.floor(Math.log(uniform()) / Math.log(1 - w));
    }
    index += 1;
  }
  reservoir.sort((x, y) => x.index - y.index);
  for (const { doc } of reservoir) yield doc;
});
