// One optimizer step on device: global gradient norm, the clip coefficient (never leaving the
// device), then fused AdamW over each group's trained segments. Defaults follow the Qwen report.
import type { Backend, Tensor } from '../../kernels/index.js';
import type { Trainable } from './trainable.js';

export interface AdamWConfig {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  clip: number;
}

export const ADAMW_DEFAULTS: AdamWConfig = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, clip: 1.0 };

export class Optimizer {
  private readonly sumsq: Tensor;
  private readonly norm: Tensor;
  private readonly coef: Tensor;

  constructor(
    private readonly k: Backend,
    private readonly params: Trainable,
    readonly config: AdamWConfig = ADAMW_DEFAULTS,
  ) {
    this.sumsq = k.alloc([1]);
    this.norm = k.alloc([1]);
    this.coef = k.alloc([1]);
  }

  /** Global L2 norm of the (already averaged) gradients; computes the clip coefficient too. */
  gradNorm(): number {
    this.params.groups.forEach((g, i) => this.k.sumsq(this.sumsq, g.grad, i > 0));
    this.k.clipCoefficient(this.coef, this.norm, this.sumsq, this.config.clip);
    return (this.k.download(this.norm) as Float32Array)[0]!;
  }

  /** AdamW with the clip coefficient of the last gradNorm(); `step` is the 1-based update count. */
  update(lr: number, step: number): void {
    const c = this.config;
    for (const g of this.params.groups) {
      for (const [start, end] of g.segments) {
        const part = (t: Tensor) => (start === 0 && end === g.numel ? t : t.rows(start, end));
        this.k.adamw(part(g.master), part(g.grad), part(g.m), part(g.v), {
          lr,
          beta1: c.beta1,
          beta2: c.beta2,
          eps: c.eps,
          weightDecay: g.decay ? c.weightDecay : 0,
          step,
          gradScale: this.coef,
          working: g.working ? part(g.working) : null,
        });
      }
    }
  }
}
