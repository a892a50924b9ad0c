// Tensor handles and the per-step activation arena. A tensor is a view (address, shape, dtype)
// into memory owned by a Backend: either a long-lived allocation or an arena.

export type DType = 'f32' | 'bf16' | 'i32';

export const DTYPE_CODE: Record<DType, number> = { f32: 0, bf16: 1, i32: 2 };
export const DTYPE_BYTES: Record<DType, number> = { f32: 4, bf16: 2, i32: 4 };

export function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`kernels: bad shape [${shape.join(', ')}]`);
    n *= d;
  }
  return n;
}

export class Tensor {
  readonly numel: number;
  readonly bytes: number;

  constructor(
    /** device address (lk_ptr) */
    readonly ptr: number,
    readonly shape: readonly number[],
    readonly dtype: DType,
    /** 'cpu', 'cuda:0', ... */
    readonly device: string,
  ) {
    this.numel = numelOf(shape);
    this.bytes = this.numel * DTYPE_BYTES[dtype];
  }

  /** Same memory, another shape with the same number of elements. */
  view(shape: readonly number[]): Tensor {
    const resolved = resolveShape(shape, this.numel);
    if (numelOf(resolved) !== this.numel)
      throw new Error(`kernels: cannot view [${this.shape.join(', ')}] as [${shape.join(', ')}]`);
    return new Tensor(this.ptr, resolved, this.dtype, this.device);
  }

  /** Rows [start, end) along the first dimension (contiguous, shares memory). */
  rows(start: number, end: number): Tensor {
    const [n, ...rest] = this.shape;
    if (!(start >= 0 && start <= end && end <= n))
      throw new Error(`kernels: rows ${start}..${end} outside [0, ${n}) of [${this.shape.join(', ')}]`);
    const row = numelOf(rest) * DTYPE_BYTES[this.dtype];
    return new Tensor(this.ptr + start * row, [end - start, ...rest], this.dtype, this.device);
  }

  toString(): string {
    return `Tensor<${this.dtype}>[${this.shape.join(', ')}]@${this.device}`;
  }
}

function resolveShape(shape: readonly number[], numel: number): number[] {
  const free = shape.indexOf(-1);
  if (free < 0) return [...shape];
  const known = numelOf(shape.filter((_, i) => i !== free));
  return shape.map((d, i) => (i === free ? numel / known : d));
}

const ALIGN = 256;

/**
 * A bump allocator over one device allocation: activations of a step come from here and
 * `reset()` recycles all of them at once, so the hot loop never allocates. `mark()`/`release()`
 * free everything allocated after a point (e.g. scratch of one layer's backward).
 */
export class Arena {
  private offset = 0;
  private peak = 0;

  constructor(
    readonly base: number,
    readonly capacity: number,
    readonly device: string,
  ) {}

  tensor(shape: readonly number[], dtype: DType = 'f32'): Tensor {
    const t = new Tensor(this.base + this.offset, shape, dtype, this.device);
    const end = this.offset + Math.ceil(t.bytes / ALIGN) * ALIGN;
    if (end > this.capacity)
      throw new Error(
        `kernels: arena out of memory: ${t} needs ${t.bytes} bytes, ${this.capacity - this.offset} of ${this.capacity} left; ` +
          'make the arena larger',
      );
    this.offset = end;
    this.peak = Math.max(this.peak, end);
    return t;
  }

  get used(): number {
    return this.offset;
  }

  /** Highest `used` seen since creation: size the next arena from it. */
  get highWater(): number {
    return this.peak;
  }

  mark(): number {
    return this.offset;
  }

  release(mark: number): void {
    if (mark < 0 || mark > this.offset) throw new Error(`kernels: arena mark ${mark} is not below ${this.offset}`);
    this.offset = mark;
  }

  reset(): void {
    this.offset = 0;
  }
}
