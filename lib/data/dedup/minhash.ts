// MinHash signatures and LSH band hashes over 32-bit shingle hashes.
//
// Permutation i is h_i(x) = (a_i·x + b_i) mod 2^32 with a_i odd: one multiply-add per shingle and
// hash, exact in 32-bit integer arithmetic (Math.imul). The shingle hashes are already avalanched
// (fmix32), which is what makes this cheap family behave min-wise; bench/dedup-quality.ts measures
// the resulting S-curve against 1-(1-s^r)^b.
import { fmix32 } from '../../text/ngrams.js';
import { createRandom } from '../../util/random.js';

export class MinHasher {
  readonly hashes: number;
  private readonly a: Int32Array;
  private readonly b: Int32Array;
  private readonly signature: Uint32Array;

  constructor(
    readonly bands: number,
    readonly rows: number,
    seed: number,
  ) {
    this.hashes = bands * rows;
    const random = createRandom(seed);
    const word = () => Math.floor(random.next() * 2 ** 32) | 0;
    this.a = Int32Array.from({ length: this.hashes }, () => word() | 1);
    this.b = Int32Array.from({ length: this.hashes }, word);
    this.signature = new Uint32Array(this.hashes);
  }

  /** The minimum of each permutation over the first `count` shingles (reused buffer). */
  sign(shingles: Uint32Array, count: number): Uint32Array {
    const sig = this.signature;
    const { a, b } = this;
    // Four permutations per sweep over the shingles: a quarter of the loads and loop overhead.
    let i = 0;
    for (; i + 4 <= this.hashes; i += 4) {
      const a0 = a[i]!, a1 = a[i + 1]!, a2 = a[i + 2]!, a3 = a[i + 3]!;
      const b0 = b[i]!, b1 = b[i + 1]!, b2 = b[i + 2]!, b3 = b[i + 3]!;
      let m0 = 0xffffffff, m1 = 0xffffffff, m2 = 0xffffffff, m3 = 0xffffffff;
      for (let j = 0; j < count; j++) {
        const x = shingles[j]!;
        const h0 = (Math.imul(a0, x) + b0) >>> 0;
        const h1 = (Math.imul(a1, x) + b1) >>> 0;
        const h2 = (Math.imul(a2, x) + b2) >>> 0;
        const h3 = (Math.imul(a3, x) + b3) >>> 0;
        if (h0 < m0) m0 = h0;
        if (h1 < m1) m1 = h1;
        if (h2 < m2) m2 = h2;
        if (h3 < m3) m3 = h3;
      }
      sig[i] = m0;
      sig[i + 1] = m1;
      sig[i + 2] = m2;
      sig[i + 3] = m3;
    }
    for (; i < this.hashes; i++) {
      let min = 0xffffffff;
      for (let j = 0; j < count; j++) {
        const h = (Math.imul(a[i]!, shingles[j]!) + b[i]!) >>> 0;
        if (h < min) min = h;
      }
      sig[i] = min;
    }
    return sig;
  }

  /** 64-bit hash (two uint32 at out[offset + 2b], out[offset + 2b + 1]) of each band's rows. */
  bandHashes(sig: Uint32Array, out: Uint32Array, offset: number): void {
    for (let band = 0; band < this.bands; band++) {
      let x = Math.imul(band + 1, 0x9e3779b1) ^ 0x1b873593;
      let y = Math.imul(band + 1, 0x85ebca6b) ^ 0x27d4eb2f;
      for (let r = 0; r < this.rows; r++) {
        const v = sig[band * this.rows + r]!;
        x = Math.imul(x ^ v, 0xcc9e2d51);
        x = (x << 13) | (x >>> 19);
        y = Math.imul(y + v, 0x1b873593) ^ (y >>> 15);
      }
      out[offset + 2 * band] = fmix32(x ^ this.rows);
      out[offset + 2 * band + 1] = fmix32(y + fmix32(x));
    }
  }
}
