// The training side of a model's weights: fp32 master weights, fp32 gradients and the AdamW
// moments, for the parameters being trained. The model's Weights stay what the forward reads:
// on the CPU (fp32) they are the masters themselves; on a GPU (bf16) AdamW writes each update into
// them. Frozen parameters get no gradient (the backward skips their weight gradients) and no
// update; a model that is not trained at all (PPO's reference and reward model) has none of this.
import type { Backend, Tensor } from '../../kernels/index.js';
import { namesOf, numel } from '../model/params.js';
import type { GradSink } from '../model/trunk.js';
import type { WeightSource, WeightTarget, Weights } from '../model/weights.js';

export interface TrainableGroup {
  decay: boolean;
  numel: number;
  master: Tensor;
  grad: Tensor;
  m: Tensor;
  v: Tensor;
  /** The compute-dtype weights AdamW writes into; null when the weights are the fp32 masters. */
  working: Tensor | null;
  /** Element ranges [start, end) of trained parameters: AdamW runs over these only. */
  segments: [number, number][];
}

export class Trainable implements WeightTarget, WeightSource {
  readonly groups: TrainableGroup[];
  private readonly grads = new Map<string, Tensor>();
  private readonly masters = new Map<string, Tensor>();

  constructor(
    readonly k: Backend,
    readonly weights: Weights,
    /** Parameters that stay as they are (by Hugging Face name; a tied embedding by either of its names). */
    readonly frozen: (name: string) => boolean = () => false,
  ) {
    const fp32 = weights.dtype === 'f32';
    this.groups = weights.groups.map((g, i) => ({
      decay: g.decay,
      numel: g.numel,
      master: fp32 ? weights.buffers[i]! : k.alloc([g.numel]),
      grad: k.alloc([g.numel]),
      m: k.alloc([g.numel]),
      v: k.alloc([g.numel]),
      working: fp32 ? null : weights.buffers[i]!,
      segments: [],
    }));
    for (const p of weights.placements) {
      const group = this.groups[p.group]!;
      // A tied embedding's gradient is also the LM head's: both backwards add into the one tensor.
      const names = namesOf(p.spec);
      const master = weights.view(group.master, p);
      for (const name of names) this.masters.set(name, master);
      if (names.some((name) => frozen(name))) continue;
      const grad = weights.view(group.grad, p);
      for (const name of names) this.grads.set(name, grad);
      const end = p.offset + numel(p.spec.shape);
      const last = group.segments[group.segments.length - 1];
      if (last && last[1] === p.offset) last[1] = end;
      else group.segments.push([p.offset, end]);
    }
  }

  get specs() {
    return this.weights.specs;
  }

  /** The backward's gradient sink: null for frozen parameters. */
  readonly grad: GradSink = (name) => this.grads.get(name) ?? null;

  /** Parameters trained (elements). */
  get trainedCount(): number {
    return this.groups.reduce((a, g) => a + g.segments.reduce((s, [b, e]) => s + e - b, 0), 0);
  }

  /** Sets fp32 masters from the host, then the compute-dtype weights from them. */
  assign(values: Iterable<[string, Float32Array]>): void {
    for (const [name, data] of values) this.k.upload(this.master(name), data);
    this.syncWorking();
  }

  values(name: string): Float32Array {
    return this.k.download(this.master(name)) as Float32Array;
  }

  master(name: string): Tensor {
    const t = this.masters.get(name);
    if (!t) throw new Error(`model: no parameter ${name}`);
    return t;
  }

  /** Copies the masters into the bf16 working weights (after init or load; AdamW does it after each step). */
  syncWorking(): void {
    for (const g of this.groups) if (g.working) this.k.cast(g.working, g.master);
  }

  zeroGrads(): void {
    for (const g of this.groups) this.k.zero(g.grad);
  }

  /** Device bytes this training state adds to the weights. */
  get bytes(): number {
    return this.groups.reduce((a, g) => a + (g.working ? g.master.bytes : 0) + g.grad.bytes + g.m.bytes + g.v.bytes, 0);
  }
}
