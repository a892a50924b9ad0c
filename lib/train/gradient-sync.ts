// Data-parallel gradient all-reduce overlapped with the backward, in buckets as PyTorch DDP does:
// the trunk's backward reports each part whose weight gradients are final (the head, then each
// layer from the last, then the embedding), and that part's gradient ranges are summed across
// ranks on a communication stream while the backward goes on with the next layer. Only the last
// micro-batch of a step reports (earlier ones are still accumulating).
import type { Backend, Tensor } from '../../kernels/index.js';
import { numel, type Placement } from '../model/params.js';
import type { BackwardHooks, GradPart } from '../model/trunk.js';
import type { Trainable } from './trainable.js';

/** The part of the model a parameter's gradient is final after. */
export function gradPartOf(name: string): GradPart {
  if (name === 'model.embed_tokens.weight') return 'embed';
  const layer = /^model\.layers\.(\d+)\./.exec(name);
  return layer ? Number(layer[1]) : 'head';
}

export interface GradRange {
  group: number;
  start: number;
  end: number;
}

/** Each part's element ranges in the flat gradient groups, merged where contiguous. */
export function gradientBuckets(placements: readonly Placement[]): Map<GradPart, GradRange[]> {
  const buckets = new Map<GradPart, GradRange[]>();
  for (const p of placements) {
    const part = gradPartOf(p.spec.name);
    const list = buckets.get(part) ?? [];
    const last = list.findLast((r) => r.group === p.group);
    const end = p.offset + numel(p.spec.shape);
    if (last && last.end === p.offset) last.end = end;
    else list.push({ group: p.group, start: p.offset, end });
    buckets.set(part, list);
  }
  return buckets;
}

export class GradientSync {
  /** Each part's gradient ranges, merged where contiguous (at most one per group). */
  private readonly buckets = new Map<GradPart, Tensor[]>();
  private readonly comm: number;
  private readonly ready: number;
  private readonly done: number;
  private pending = new Set<GradPart>();

  constructor(
    private readonly k: Backend,
    params: Trainable,
  ) {
    for (const [part, list] of gradientBuckets(params.weights.placements)) this.buckets.set(part, list.map((r) => params.groups[r.group]!.grad.rows(r.start, r.end)));
    this.comm = k.createStream();
    this.ready = k.createEvent();
    this.done = k.createEvent();
  }

  /** Hooks for the step's last backward: each reported part starts its all-reduce at once. */
  hooks(): BackwardHooks {
    this.pending = new Set(this.buckets.keys());
    return { gradsReady: (part) => this.launch(part) };
  }

  /** Reduces what no hook reported, then makes the compute stream wait for every all-reduce. */
  finish(): void {
    for (const part of [...this.pending]) this.launch(part);
    this.k.setStream(this.comm);
    this.k.recordEvent(this.done);
    this.k.setStream(0);
    this.k.waitEvent(this.done);
  }

  private launch(part: GradPart): void {
    if (!this.pending.delete(part)) return;
    const { k } = this;
    k.recordEvent(this.ready);
    k.setStream(this.comm);
    try {
      k.waitEvent(this.ready);
      for (const range of this.buckets.get(part)!) k.allReduce(range);
    } finally {
      k.setStream(0);
    }
  }

  dispose(): void {
    this.k.destroyEvent(this.ready);
    this.k.destroyEvent(this.done);
    this.k.destroyStream(this.comm);
  }
}
