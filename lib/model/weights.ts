// What the forward reads: every parameter in the compute dtype (bf16 on a GPU, fp32 on the CPU),
// and nothing else. A model loaded for inference, or frozen (PPO's reference and reward model),
// holds only this; gradients, fp32 masters and AdamW moments belong to the trainer
// (lib/train/trainable.ts), which writes its updates back into these buffers.
import type { Backend, DType, Tensor } from '../../kernels/index.js';
import { layout, namesOf, numel, type GroupLayout, type ParamSpec, type Placement } from './params.js';

/** Something weights can be assigned to from fp32 host values (loading, initialization). */
export interface WeightTarget {
  readonly specs: readonly ParamSpec[];
  assign(values: Iterable<[string, Float32Array]>): void;
}

/** Something whose fp32 weights can be read back (checkpoints). */
export interface WeightSource {
  readonly specs: readonly ParamSpec[];
  values(name: string): Float32Array;
}

export class Weights implements WeightTarget, WeightSource {
  /** One flat buffer per group (see params.ts layout), in the compute dtype. */
  readonly buffers: Tensor[];
  readonly groups: GroupLayout[];
  readonly placements: Placement[];
  private readonly views = new Map<string, Tensor>();

  constructor(
    readonly k: Backend,
    readonly specs: readonly ParamSpec[],
    readonly dtype: DType,
  ) {
    ({ groups: this.groups, placements: this.placements } = layout(specs));
    this.buffers = this.groups.map((g) => k.alloc([g.numel], dtype));
    for (const p of this.placements) {
      const view = this.view(this.buffers[p.group]!, p);
      for (const name of namesOf(p.spec)) this.views.set(name, view);
    }
  }

  /** The part of a flat group tensor that holds parameter `p`, in its shape. */
  view(flat: Tensor, p: Placement): Tensor {
    return flat.rows(p.offset, p.offset + numel(p.spec.shape)).view(p.spec.shape);
  }

  /**
   * Parameters that lie one after another in one group with the same row width (q/k/v, gate/up in
   * this layout), as one [sum of rows, width] tensor: one product reads them all. Null otherwise.
   */
  joined(names: readonly string[]): Tensor | null {
    const parts = names.map((name) => this.placements.find((p) => namesOf(p.spec).includes(name)));
    const first = parts[0];
    if (!first || parts.some((p) => !p)) return null;
    const width = numel(first.spec.shape.slice(1));
    let end = first.offset, rows = 0;
    for (const p of parts as Placement[]) {
      if (p.group !== first.group || p.offset !== end || numel(p.spec.shape.slice(1)) !== width) return null;
      end += numel(p.spec.shape);
      rows += p.spec.shape[0]!;
    }
    const joined = this.buffers[first.group]!.rows(first.offset, end);
    return first.spec.shape.length === 1 ? joined : joined.view([rows, width]);
  }

  /** The forward's tensor of a parameter (by its name or an alias: `lm_head.weight` when tied). */
  w(name: string): Tensor {
    const t = this.views.get(name);
    if (!t) throw new Error(`model: no parameter ${name}`);
    return t;
  }

  get count(): number {
    return this.groups.reduce((a, g) => a + g.numel, 0);
  }

  get bytes(): number {
    return this.buffers.reduce((a, b) => a + b.bytes, 0);
  }

  /** Uploads fp32 host values, rounded on the device when the weights are bf16. */
  assign(values: Iterable<[string, Float32Array]>): void {
    for (const [name, data] of values) {
      const target = this.w(name);
      if (this.dtype === 'f32') {
        this.k.upload(target, data);
        continue;
      }
      const staging = this.k.alloc(target.shape);
      try {
        this.k.upload(staging, data);
        this.k.cast(target, staging);
      } finally {
        this.k.free(staging);
      }
    }
  }

  values(name: string): Float32Array {
    return this.k.toFloat32(this.w(name));
  }

  free(): void {
    for (const b of this.buffers) this.k.free(b);
  }
}
