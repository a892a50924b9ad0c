import { createRandom } from '../util/random.js';

/**
 * A bounded, seeded shuffle buffer (as in tf.data / webdataset): holds up to `capacity` items;
 * once full, each new item evicts a uniformly chosen one. Items far apart in the input stay
 * roughly in order, so a larger buffer mixes more. Same seed and input, same output.
 */
export class ShuffleBuffer<T> {
  private readonly items: T[] = [];
  private readonly random;

  constructor(private readonly capacity: number, seed: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('shuffle buffer capacity must be a positive integer');
    this.random = createRandom(seed);
  }

  /** Adds an item; returns the one it evicted, if the buffer was full. */
  push(item: T): T | undefined {
    if (this.items.length < this.capacity) {
      this.items.push(item);
      return undefined;
    }
    const i = this.random.int(this.capacity);
    const out = this.items[i]!;
    this.items[i] = item;
    return out;
  }

  /** Empties the buffer in random order. */
  *drain(): Generator<T> {
    while (this.items.length > 0) {
      const i = this.random.int(this.items.length);
      const last = this.items.pop()!;
      if (i === this.items.length) yield last;
      else {
        const out = this.items[i]!;
        this.items[i] = last;
        yield out;
      }
    }
  }
}
