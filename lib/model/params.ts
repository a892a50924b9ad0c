// The model's parameters under Hugging Face Qwen2 names, laid out in two flat buffers (one per
// weight-decay group) so AdamW updates each group in one call. Every parameter has an fp32 master
// view and a gradient view; on bf16 the model computes with a bf16 working copy that AdamW writes.
import type { Backend, DType, Tensor } from '../../kernels/index.js';
import { createRandom } from '../util/random.js';
import { headDim, type ModelConfig } from './config.js';

export type Init = 'normal' | 'output' | 'ones' | 'zeros';

export interface ParamSpec {
  name: string;
  shape: number[];
  /** Weight decay applies to matrices only (not norms, not biases). */
  decay: boolean;
  init: Init;
}

export function layerPrefix(l: number): string {
  return `model.layers.${l}.`;
}

/** Every parameter in the order Hugging Face's Qwen2ForCausalLM lists them. */
export function parameterSpecs(c: ModelConfig): ParamSpec[] {
  const C = c.hiddenSize, kv = c.kvHeads * headDim(c), F = c.intermediateSize;
  const specs: ParamSpec[] = [{ name: 'model.embed_tokens.weight', shape: [c.vocabSize, C], decay: true, init: 'normal' }];
  for (let l = 0; l < c.layers; l++) {
    const p = layerPrefix(l);
    specs.push(
      { name: p + 'input_layernorm.weight', shape: [C], decay: false, init: 'ones' },
      { name: p + 'self_attn.q_proj.weight', shape: [C, C], decay: true, init: 'normal' },
      { name: p + 'self_attn.q_proj.bias', shape: [C], decay: false, init: 'zeros' },
      { name: p + 'self_attn.k_proj.weight', shape: [kv, C], decay: true, init: 'normal' },
      { name: p + 'self_attn.k_proj.bias', shape: [kv], decay: false, init: 'zeros' },
      { name: p + 'self_attn.v_proj.weight', shape: [kv, C], decay: true, init: 'normal' },
      { name: p + 'self_attn.v_proj.bias', shape: [kv], decay: false, init: 'zeros' },
      { name: p + 'self_attn.o_proj.weight', shape: [C, C], decay: true, init: 'output' },
      { name: p + 'post_attention_layernorm.weight', shape: [C], decay: false, init: 'ones' },
      { name: p + 'mlp.gate_proj.weight', shape: [F, C], decay: true, init: 'normal' },
      { name: p + 'mlp.up_proj.weight', shape: [F, C], decay: true, init: 'normal' },
      { name: p + 'mlp.down_proj.weight', shape: [C, F], decay: true, init: 'output' },
    );
  }
  specs.push({ name: 'model.norm.weight', shape: [C], decay: false, init: 'ones' }, { name: 'lm_head.weight', shape: [c.vocabSize, C], decay: true, init: 'normal' });
  return specs;
}

const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** One weight-decay group: flat fp32 master, gradient and AdamW moments, plus the working copy. */
export interface ParamGroup {
  decay: boolean;
  numel: number;
  master: Tensor;
  grad: Tensor;
  m: Tensor;
  v: Tensor;
  /** bf16 copy the model computes with; null when the model computes on the fp32 master. */
  working: Tensor | null;
}

export interface Param {
  spec: ParamSpec;
  group: ParamGroup;
  /** Element offset inside the group's flat buffers. */
  offset: number;
  master: Tensor;
  grad: Tensor;
  /** What the forward reads: the bf16 working view, or the master itself. */
  weight: Tensor;
}

export class Parameters {
  readonly groups: ParamGroup[];
  readonly list: Param[];
  private readonly byName = new Map<string, Param>();

  constructor(
    readonly k: Backend,
    readonly config: ModelConfig,
    readonly dtype: DType,
  ) {
    const specs = parameterSpecs(config);
    this.groups = [true, false].map((decay) => {
      const n = specs.filter((s) => s.decay === decay).reduce((a, s) => a + numel(s.shape), 0);
      return {
        decay,
        numel: n,
        master: k.alloc([n]),
        grad: k.alloc([n]),
        m: k.alloc([n]),
        v: k.alloc([n]),
        working: dtype === 'f32' ? null : k.alloc([n], dtype),
      };
    });
    const used = [0, 0];
    this.list = specs.map((spec) => {
      const gi = spec.decay ? 0 : 1;
      const group = this.groups[gi]!;
      const offset = used[gi]!;
      const n = numel(spec.shape);
      used[gi] = offset + n;
      const view = (t: Tensor) => t.rows(offset, offset + n).view(spec.shape);
      const master = view(group.master);
      const param: Param = { spec, group, offset, master, grad: view(group.grad), weight: group.working ? view(group.working) : master };
      this.byName.set(spec.name, param);
      return param;
    });
  }

  get(name: string): Param {
    const p = this.byName.get(name);
    if (!p) throw new Error(`model: no parameter ${name}`);
    return p;
  }

  /** The forward's weight tensor of a parameter. */
  w(name: string): Tensor {
    return this.get(name).weight;
  }

  g(name: string): Tensor {
    return this.get(name).grad;
  }

  get count(): number {
    return this.groups.reduce((a, g) => a + g.numel, 0);
  }

  /** normal(0, std), output projections std/sqrt(2·layers), norms 1, biases 0; seeded. */
  initialize(seed: number): void {
    const c = this.config;
    const random = createRandom(seed);
    for (const p of this.list) {
      const n = numel(p.spec.shape);
      const data = new Float32Array(n);
      if (p.spec.init === 'ones') data.fill(1);
      else if (p.spec.init !== 'zeros') {
        const std = p.spec.init === 'output' ? c.initStd / Math.sqrt(2 * c.layers) : c.initStd;
        fillNormal(data, std, random.next);
      }
      this.k.upload(p.master, data);
    }
    this.syncWorking();
  }

  /** Sets one parameter's master weights from the host (checkpoint loading). */
  setMaster(name: string, data: Float32Array): void {
    this.k.upload(this.get(name).master, data);
  }

  /** Copies the masters into the bf16 working buffers (after init or load; AdamW does it after each step). */
  syncWorking(): void {
    for (const g of this.groups) if (g.working) this.k.cast(g.working, g.master);
  }

  zeroGrads(): void {
    for (const g of this.groups) this.k.zero(g.grad);
  }
}

/** Box-Muller over a uniform source: deterministic for a given seed. */
function fillNormal(out: Float32Array, std: number, uniform: () => number): void {
  for (let i = 0; i < out.length; i += 2) {
    const u1 = 1 - uniform();
    const u2 = uniform();
    const r = std * Math.sqrt(-2 * Math.log(u1));
    out[i] = r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
}
