// loom's PPO objectives against a PyTorch implementation (scripts/ppo-reference.py) on fixed
// experience: a small random Qwen2 policy and critic are saved as Hugging Face checkpoints, loom
// computes the clipped surrogate and the clipped value loss with their gradients (fp32, on the
// CPU), then PyTorch loads the same checkpoints with transformers and does the same with autograd.
//
//   node --import tsx bench/ppo-agreement.ts [--python python3]
//     one JSON line: each loss and its difference, and the largest |gradient difference| over
//     every parameter of each model.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBackend } from '../kernels/index.js';
import { saveCheckpoint, type LoomModelInfo } from '../lib/model/checkpoint.js';
import type { ModelConfig } from '../lib/model/config.js';
import { initialValues, parameterSpecs, type HeadKind } from '../lib/model/params.js';
import { Trunk } from '../lib/model/trunk.js';
import { Weights } from '../lib/model/weights.js';
import { responseLogprobs, type Rollout } from '../lib/train/ppo-experience.js';
import { criticPass, policyPass, type UpdateBatch } from '../lib/train/ppo-update.js';
import { Trainable } from '../lib/train/trainable.js';
import { createRandom } from '../lib/util/random.js';

const python = process.argv.includes('--python') ? process.argv[process.argv.indexOf('--python') + 1]! : 'python3';
const k = openBackend('cpu');
const config: ModelConfig = { vocabSize: 512, hiddenSize: 64, layers: 2, heads: 4, kvHeads: 2, intermediateSize: 176, seqLen: 64, ropeTheta: 10000, rmsEps: 1e-6, dropout: 0, initStd: 0.05 };
const info: LoomModelInfo = { vocab_hash: '', vocab: 'none', vocab_ids: config.vocabSize, eot: 0, nfc: true, dropout: 0, init_std: config.initStd };
const dir = mkdtempSync(join(tmpdir(), 'loom-ppo-agreement-'));
const CLIP = 0.2, VALUE_CLIP = 0.15, PAD = 0;

function model(head: HeadKind, seed: number) {
  const weights = new Weights(k, parameterSpecs(config, head), 'f32');
  const params = new Trainable(k, weights);
  params.assign(initialValues(config, weights.specs, seed));
  const trunk = new Trunk(k, config, weights, 8 * config.seqLen);
  const path = join(dir, head);
  saveCheckpoint(path, params, config, info, { head, vocab: null });
  return { params, trunk, path };
}

const policy = model('lm', 1), critic = model('score', 2);
const random = createRandom(9);
const rollouts: Rollout[] = Array.from({ length: 6 }, (_, i) => {
  const promptLen = 4 + i, total = promptLen + 8 + 3 * i;
  return { ordinal: i, ids: Int32Array.from({ length: total }, () => 1 + random.int(config.vocabSize - 1)), promptLen, ended: true, sampleLogprobs: new Float32Array(0) };
});
const current = responseLogprobs(policy.trunk, rollouts, PAD);
const noise = (scale: number) => (random.next() - 0.5) * 2 * scale;
const experience: UpdateBatch = {
  rollouts,
  // the old policy a little off the current one, so that ratios leave the clip range both ways
  oldLogprobs: current.map((lp) => lp.map((x) => x + noise(0.4))),
  oldValues: current.map((lp) => lp.map(() => noise(1))),
  advantages: current.map((lp) => Float64Array.from(lp, () => noise(1.5))),
  returns: current.map((lp) => Float64Array.from(lp, () => noise(1.5))),
};
const tokens = current.reduce((a, lp) => a + lp.length, 0);
const gradScale = 1 / tokens;

const run = (m: typeof policy, pass: typeof policyPass) => {
  m.params.zeroGrads();
  const sums = pass(m.trunk, m.params.grad, experience, { clip: m === policy ? CLIP : VALUE_CLIP, padId: PAD, gradScale });
  return { loss: sums.loss * gradScale, clipped: sums.clipped, grads: Object.fromEntries(m.params.specs.map((s) => [s.name, k.download(m.params.grad(s.name)!) as Float32Array])) };
};
const loom = { policy: run(policy, policyPass), critic: run(critic, criticPass) };

const expFile = join(dir, 'experience.json');
writeFileSync(expFile, JSON.stringify({
  clip: CLIP, value_clip: VALUE_CLIP, pad: PAD, grad_scale: gradScale,
  rollouts: rollouts.map((r, i) => ({ ids: Array.from(r.ids), prompt_len: r.promptLen, old_logprobs: Array.from(experience.oldLogprobs[i]!), old_values: Array.from(experience.oldValues[i]!), advantages: Array.from(experience.advantages[i]!), returns: Array.from(experience.returns[i]!) })),
}));
const gradsFile = join(dir, 'torch.json');
execFileSync(python, ['scripts/ppo-reference.py', policy.path, critic.path, expFile, gradsFile], { stdio: ['ignore', 'inherit', 'inherit'] });
const torch = JSON.parse((await import('node:fs')).readFileSync(gradsFile, 'utf8')) as Record<'policy' | 'critic', { loss: number; clipped: number; grads: Record<string, number[]> }>;

const compare = (ours: (typeof loom)['policy'], theirs: (typeof torch)['policy']) => {
  let worst = 0, worstName = '', scale = 0;
  for (const [name, g] of Object.entries(ours.grads)) {
    const t = theirs.grads[name];
    if (!t) throw new Error(`PyTorch has no gradient for ${name}`);
    g.forEach((x, i) => {
      scale = Math.max(scale, Math.abs(t[i]!));
      const d = Math.abs(x - t[i]!);
      if (d > worst) (worst = d), (worstName = name);
    });
  }
  return { loss: ours.loss, torch_loss: theirs.loss, loss_diff: Math.abs(ours.loss - theirs.loss), clipped: ours.clipped, torch_clipped: theirs.clipped, max_grad_diff: worst, worst_param: worstName, max_abs_grad: scale };
};
console.log(JSON.stringify({ bench: 'ppo-agreement', device: 'cpu', dtype: 'f32', response_tokens: tokens, policy: compare(loom.policy, torch.policy), critic: compare(loom.critic, torch.critic) }));
