// The model's parameters under Hugging Face Qwen2 names, and where each one sits: two flat groups
// (one per weight-decay group), so AdamW updates a group in one call and a checkpoint lists the
// tensors in Hugging Face's order. Weights (inference) and the trainer's state share this layout.
import { createRandom } from '../util/random.js';
import { headDim, type ModelConfig } from './config.js';

export type Init = 'normal' | 'output' | 'ones' | 'zeros';

/** The head on top of the trunk: Qwen2ForCausalLM's `lm_head` or Qwen2ForSequenceClassification's `score`. */
export type HeadKind = 'lm' | 'score';

export interface ParamSpec {
  name: string;
  shape: number[];
  /** Weight decay applies to matrices only (not norms, not biases). */
  decay: boolean;
  init: Init;
  /** Other names this tensor answers to: `lm_head.weight` on a tied embedding. */
  aliases?: string[];
}

export const EMBEDDING = 'model.embed_tokens.weight';
export const LM_HEAD = 'lm_head.weight';

export function layerPrefix(l: number): string {
  return `model.layers.${l}.`;
}

/**
 * Every parameter in the order Hugging Face lists them, ending with the head's. A tied LM head is
 * no parameter of its own: the embedding answers to its name too.
 */
export function parameterSpecs(c: ModelConfig, head: HeadKind = 'lm'): ParamSpec[] {
  const C = c.hiddenSize, kv = c.kvHeads * headDim(c), F = c.intermediateSize;
  const tied = head === 'lm' && c.tieEmbeddings === true;
  const specs: ParamSpec[] = [{ name: EMBEDDING, shape: [c.vocabSize, C], decay: true, init: 'normal', ...(tied ? { aliases: [LM_HEAD] } : {}) }];
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
  specs.push({ name: 'model.norm.weight', shape: [C], decay: false, init: 'ones' });
  if (head === 'score') specs.push({ name: 'score.weight', shape: [1, C], decay: true, init: 'normal' });
  else if (!tied) specs.push({ name: LM_HEAD, shape: [c.vocabSize, C], decay: true, init: 'normal' });
  return specs;
}

/** A parameter's name and its aliases. */
export function namesOf(spec: ParamSpec): string[] {
  return [spec.name, ...(spec.aliases ?? [])];
}

export const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** A parameter's place: its group (0 = decay, 1 = no decay) and element offset in it. */
export interface Placement {
  spec: ParamSpec;
  group: number;
  offset: number;
}

export interface GroupLayout {
  decay: boolean;
  numel: number;
}

/** Groups decay first, parameters in spec order inside each. */
export function layout(specs: readonly ParamSpec[]): { groups: GroupLayout[]; placements: Placement[] } {
  const groups: GroupLayout[] = [
    { decay: true, numel: 0 },
    { decay: false, numel: 0 },
  ];
  const placements = specs.map((spec) => {
    const group = spec.decay ? 0 : 1;
    const offset = groups[group]!.numel;
    groups[group]!.numel += numel(spec.shape);
    return { spec, group, offset };
  });
  return { groups, placements };
}

/**
 * Fresh weights, seeded: normal(0, std), output projections std/sqrt(2·layers), norms 1, biases 0.
 * One parameter at a time, in spec order (the order fixes the random stream).
 */
export function* initialValues(c: ModelConfig, specs: readonly ParamSpec[], seed: number): Generator<[string, Float32Array]> {
  const random = createRandom(seed);
  for (const spec of specs) {
    const data = new Float32Array(numel(spec.shape));
    if (spec.init === 'ones') data.fill(1);
    else if (spec.init !== 'zeros') {
      const std = spec.init === 'output' ? c.initStd / Math.sqrt(2 * c.layers) : c.initStd;
      fillNormal(data, std, random.next);
    }
    yield [spec.name, data];
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
