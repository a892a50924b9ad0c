/** Up to this many values (512 KiB) are also kept as they are, for exact answers on small inputs. */
export const EXACT_LIMIT = 65_536;

/**
 * Streaming quantiles in bounded memory with ~1% relative error (a log-bucket sketch in the
 * manner of DDSketch): values map to buckets of geometrically growing width, so a billion text
 * lengths cost a few hundred buckets. Up to `exactLimit` values the answers are exact instead:
 * quantiles interpolate linearly between the two nearest values, as numpy and pandas do by default.
 */
export class QuantileSketch {
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  private zeros = 0;
  private readonly positive = new Map<number, number>();
  private readonly negative = new Map<number, number>();
  private readonly logGamma: number;
  /** Every value so far, until there are more than exactLimit; sorted on demand. */
  private values: number[] | undefined = [];
  private sorted = true;

  constructor(
    relativeError = 0.01,
    private readonly exactLimit = EXACT_LIMIT,
  ) {
    this.logGamma = Math.log((1 + relativeError) / (1 - relativeError));
  }

  /** Whether quantiles and histograms are exact (all values are held). */
  get exact(): boolean {
    return this.values !== undefined;
  }

  add(value: number): void {
    if (!Number.isFinite(value)) return;
    this.count += 1;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    if (this.values && this.values.length < this.exactLimit) {
      this.values.push(value);
      this.sorted = false;
    } else this.values = undefined;
    if (value === 0) this.zeros += 1;
    else {
      const buckets = value > 0 ? this.positive : this.negative;
      const key = Math.ceil(Math.log(Math.abs(value)) / this.logGamma);
      buckets.set(key, (buckets.get(key) ?? 0) + 1);
    }
  }

  get mean(): number {
    return this.count === 0 ? NaN : this.sum / this.count;
  }

  /** The q-quantile (0 ≤ q ≤ 1): exact while all values are held, else clamped to the exact min and max. */
  quantile(q: number): number {
    if (this.count === 0) return NaN;
    const rank = q * (this.count - 1);
    const exact = this.sortedValues();
    if (exact) {
      const below = Math.floor(rank);
      const above = Math.min(below + 1, exact.length - 1);
      return exact[below]! + (exact[above]! - exact[below]!) * (rank - below);
    }
    let seen = 0;
    for (const [value, n] of this.sortedBuckets()) {
      seen += n;
      if (seen > rank) return Math.min(this.max, Math.max(this.min, value));
    }
    return this.max;
  }

  /** Counts in `bins` equal-width bins over [min, max], from bucket representatives. */
  histogram(bins: number): { lo: number; hi: number; count: number }[] {
    if (this.count === 0) return [];
    if (this.max === this.min) return [{ lo: this.min, hi: this.max, count: this.count }];
    const width = (this.max - this.min) / bins;
    const result = Array.from({ length: bins }, (_, i) => ({ lo: this.min + i * width, hi: this.min + (i + 1) * width, count: 0 }));
    for (const [value, n] of this.sortedValues()?.map((v): [number, number] => [v, 1]) ?? this.sortedBuckets()) {
      const clamped = Math.min(this.max, Math.max(this.min, value));
      const bin = Math.min(bins - 1, Math.floor((clamped - this.min) / width));
      result[bin]!.count += n;
    }
    return result;
  }

  private sortedValues(): number[] | undefined {
    if (this.values && !this.sorted) {
      this.values.sort((a, b) => a - b);
      this.sorted = true;
    }
    return this.values;
  }

  private sortedBuckets(): [number, number][] {
    const representative = (key: number) => (2 * Math.exp(key * this.logGamma)) / (1 + Math.exp(this.logGamma));
    const entries: [number, number][] = [];
    for (const [key, n] of this.negative) entries.push([-representative(key), n]);
    if (this.zeros > 0) entries.push([0, this.zeros]);
    for (const [key, n] of this.positive) entries.push([representative(key), n]);
    return entries.sort((x, y) => x[0] - y[0]);
  }
}
