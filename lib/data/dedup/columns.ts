// Growable typed-array columns: per-document state at a fixed number of bytes, no object per doc.
type Typed = Uint8Array | Uint32Array | Int32Array | Float64Array;

export class Column<A extends Typed> {
  length = 0;
  constructor(public data: A) {}

  push(value: number): void {
    if (this.length === this.data.length) {
      const grown = new (this.data.constructor as new (n: number) => A)(this.data.length * 2);
      grown.set(this.data as never);
      this.data = grown;
    }
    this.data[this.length++] = value;
  }

  get(i: number): number {
    return this.data[i]!;
  }
}

export const uint8Column = () => new Column(new Uint8Array(1024));
export const uint32Column = () => new Column(new Uint32Array(1024));
export const int32Column = () => new Column(new Int32Array(1024));
export const float64Column = () => new Column(new Float64Array(1024));
