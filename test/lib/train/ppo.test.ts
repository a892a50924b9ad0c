// PPO on the CPU: the policy's and the critic's passes against a float64 computation of the same
// objectives from the model's logits and hidden states (losses, head gradients exactly, trunk
// gradients by central differences), then a few steps of `tiny` end to end: scores normalized by
// the running mean, only the critic moving during its warm-up, clipping, and a resumed run that
// continues exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openBackend } from '../../../kernels/index.js';
import type { ModelConfig } from '../../../lib/model/config.js';
import { allLogits } from '../../../lib/model/lm-head.js';
import { initialValues, parameterSpecs, type HeadKind } from '../../../lib/model/params.js';
import { openModelTensors } from '../../../lib/model/safetensors.js';
import { scalarValues } from '../../../lib/model/scalar-head.js';
import { Trunk } from '../../../lib/model/trunk.js';
import { Weights } from '../../../lib/model/weights.js';
import type { PpoEvalRecord, PpoStepRecord } from '../../../lib/train/metrics.js';
import { forwardRows, responseRows, type Rollout } from '../../../lib/train/ppo-experience.js';
import { policyTerm, valueTerm } from '../../../lib/train/ppo-math.js';
import { PPO_PRESETS } from '../../../lib/train/ppo-presets.js';
import { criticPass, policyPass, type UpdateBatch } from '../../../lib/train/ppo-update.js';
import { ppo, type PpoOptions } from '../../../lib/train/ppo.js';
import { Trainable } from '../../../lib/train/trainable.js';
import { createRandom } from '../../../lib/util/random.js';
import { preferenceRecords, tinyChatBase, writeJsonl } from '../../helpers/chat-base.js';
import { runLoom, tempDir } from '../../helpers/cli.js';
import { checkAgainstFiniteDifferences } from '../model/finite-differences.js';

const k = openBackend('cpu');
const small: ModelConfig = { vocabSize: 19, hiddenSize: 16, layers: 2, heads: 4, kvHeads: 2, intermediateSize: 24, seqLen: 16, ropeTheta: 10000, rmsEps: 1e-6, dropout: 0, initStd: 0.3 };

function model(head: HeadKind) {
  const weights = new Weights(k, parameterSpecs(small, head), 'f32');
  const params = new Trainable(k, weights);
  params.assign(initialValues(small, weights.specs, 5));
  return { params, trunk: new Trunk(k, small, weights, 64) };
}

/** Three responses of different lengths after prompts of different lengths, with old figures a little off the model's. */
function experience(): UpdateBatch {
  const r = createRandom(3);
  const rollout = (promptLen: number, total: number): Rollout => ({
    ordinal: 0,
    ids: Int32Array.from({ length: total }, () => r.int(small.vocabSize)),
    promptLen,
    ended: true,
    sampleLogprobs: new Float32Array(total - promptLen),
  });
  const rollouts = [rollout(3, 9), rollout(5, 7), rollout(2, 10)];
  const per = (f: () => number) => rollouts.map((x) => Float64Array.from({ length: x.ids.length - x.promptLen }, f));
  // old log-probs far enough from the model's that some ratios leave [0.8, 1.2]
  const oldLogprobs = per(() => -2.5 - 0.8 * r.next()).map((a) => Float32Array.from(a));
  return { rollouts, oldLogprobs, oldValues: per(() => r.next() - 0.5).map((a) => Float32Array.from(a)), advantages: per(() => 2 * r.next() - 1), returns: per(() => 2 * r.next() - 1) };
}

/** log-softmax in float64 of one row of logits. */
function logSoftmax(logits: Float32Array, row: number, V: number): Float64Array {
  let max = -Infinity;
  for (let v = 0; v < V; v++) max = Math.max(max, logits[row * V + v]!);
  let sum = 0;
  for (let v = 0; v < V; v++) sum += Math.exp(logits[row * V + v]! - max);
  return Float64Array.from({ length: V }, (_, v) => logits[row * V + v]! - max - Math.log(sum));
}

const tokensOf = (b: UpdateBatch) => b.oldLogprobs.reduce((a, x) => a + x.length, 0);

test('policy pass: the clipped surrogate and its gradients equal a float64 computation from the logits', () => {
  const { params, trunk } = model('lm');
  const b = experience();
  const gradScale = 1 / tokensOf(b);
  const V = small.vocabSize, C = small.hiddenSize;
  const reference = () => {
    const rows = responseRows(b.rollouts, 0);
    const hidden = forwardRows(trunk, rows);
    const logits = allLogits(trunk, hidden);
    const h = k.download(hidden.h) as Float32Array;
    let loss = 0, clipped = 0;
    const dW = new Float64Array(V * C);
    b.rollouts.forEach((_, r) => {
      b.oldLogprobs[r]!.forEach((old, j) => {
        const i = rows.at[rows.starts[r]! + j]!;
        const lsm = logSoftmax(logits, i, V);
        const target = rows.targets[i]!;
        const t = policyTerm(lsm[target]!, old, b.advantages[r]![j]!, 0.2);
        loss += t.loss * gradScale;
        clipped += t.clipped ? 1 : 0;
        // d log p(target) / d z_v = [v = target] − p_v; dL/dW_v = Σ dL/dz_v · h
        for (let v = 0; v < V; v++) {
          const dz = t.grad * gradScale * ((v === target ? 1 : 0) - Math.exp(lsm[v]!));
          for (let c = 0; c < C; c++) dW[v * C + c]! += dz * h[i * C + c]!;
        }
      });
    });
    return { loss, clipped, dW };
  };
  const want = reference();
  params.zeroGrads();
  const sums = policyPass(trunk, params.grad, b, { clip: 0.2, padId: 0, gradScale });
  assert.ok(Math.abs(sums.loss * gradScale - want.loss) < 1e-5, `loss ${sums.loss * gradScale} vs ${want.loss}`);
  assert.equal(sums.clipped, want.clipped);
  assert.ok(want.clipped > 0 && want.clipped < tokensOf(b), `some tokens clipped, not all (${want.clipped} of ${tokensOf(b)})`);
  const dW = k.download(params.grad('lm_head.weight')!) as Float32Array;
  const worst = dW.reduce((a, g, i) => Math.max(a, Math.abs(g - want.dW[i]!)), 0);
  assert.ok(worst < 1e-5, `lm_head gradient within 1e-5 of float64 (largest difference ${worst})`);
  for (const name of ['model.layers.0.self_attn.q_proj.weight', 'model.layers.1.mlp.down_proj.weight', 'model.embed_tokens.weight'])
    checkAgainstFiniteDifferences(params, name, () => reference().loss, 'PPO policy loss');
});

test('critic pass: the clipped value loss and its gradients equal a float64 computation from the values', () => {
  const { params, trunk } = model('score');
  const b = experience();
  const gradScale = 1 / tokensOf(b);
  const C = small.hiddenSize;
  const reference = () => {
    const rows = responseRows(b.rollouts, 0);
    const hidden = forwardRows(trunk, rows);
    const values = scalarValues(trunk, hidden, rows.at).values;
    const h = k.download(hidden.h) as Float32Array;
    let loss = 0, clipped = 0;
    const dw = new Float64Array(C);
    b.rollouts.forEach((_, r) => {
      b.oldValues[r]!.forEach((old, j) => {
        const at = rows.starts[r]! + j;
        const t = valueTerm(values[at]!, old, b.returns[r]![j]!, 0.15);
        loss += t.loss * gradScale;
        clipped += t.clipped ? 1 : 0;
        for (let c = 0; c < C; c++) dw[c]! += t.grad * gradScale * h[rows.at[at]! * C + c]!;
      });
    });
    return { loss, clipped, dw };
  };
  const want = reference();
  params.zeroGrads();
  const sums = criticPass(trunk, params.grad, b, { clip: 0.15, padId: 0, gradScale });
  assert.ok(Math.abs(sums.loss * gradScale - want.loss) < 1e-6, `loss ${sums.loss * gradScale} vs ${want.loss}`);
  assert.equal(sums.clipped, want.clipped);
  assert.ok(want.clipped > 0, 'some values clipped');
  const dw = k.download(params.grad('score.weight')!) as Float32Array;
  dw.forEach((g, c) => assert.ok(Math.abs(g - want.dw[c]!) < 1e-5, `score.weight[${c}] ${g} vs ${want.dw[c]}`));
  for (const name of ['model.layers.1.self_attn.v_proj.weight', 'model.norm.weight']) checkAgainstFiniteDifferences(params, name, () => reference().loss, 'PPO value loss');
});

test('ppo: tiny end to end — normalized scores, critic-only warm-up, clipping, and an exact resume', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const base = await tinyChatBase(dir);
  const rm = join(dir, 'rm');
  const trained = await runLoom(['rm', '--init', base, '--data', writeJsonl(join(dir, 'prefs.jsonl'), preferenceRecords(16)), '--out', rm, '--device', 'cpu', '--steps', '2', '--batch', '4', '--batch-pairs', '4', '--max-len', '48', '--lr', '3e-3', '--eval-every', '0', '--quiet']);
  assert.equal(trained.code, 0, trained.stderr);
  const prompts = writeJsonl(join(dir, 'prompts.jsonl'), preferenceRecords(20));

  const run = (out: string, steps: number, resume = false) => {
    const records: (PpoStepRecord | PpoEvalRecord)[] = [];
    const o: PpoOptions = {
      settings: {
        ...PPO_PRESETS.qwen,
        policy: base,
        reward: rm,
        reference: base,
        critic: rm,
        promptsPerStep: 2,
        samplesPerPrompt: 2,
        batch: 4,
        maxPromptLen: 48,
        maxNew: 6,
        topP: 1,
        criticWarmup: 1,
        policyLr: 2e-2,
        criticLr: 1e-2,
        ppoEpochs: 2,
        missingEosPenalty: 0,
        scoreClip: 100,
        evalPrompts: 2,
        valFraction: 0.2,
        systemPrompt: 'You are a helpful assistant.',
      },
      recipe: PPO_PRESETS.qwen,
      steps,
      prompts: [prompts],
      out,
      resume,
      device: 'cpu',
      seed: 7,
      evalEvery: 0,
      saveEvery: 0,
      onError: 'fail',
      log: () => {},
      onRecord: (r) => records.push(r),
      run: {},
    };
    return ppo(o).then((result) => ({ result, steps: records.filter((r): r is PpoStepRecord => 'loss' in r) }));
  };
  const tensors = (ckpt: string) => {
    const m = openModelTensors(ckpt);
    return new Map(m.names().map((n) => [n, m.read(n)]));
  };
  const same = (a: Map<string, Float32Array>, b: Map<string, Float32Array>) => [...a].every(([n, v]) => b.get(n)!.every((x, i) => x === v[i]));

  // one step, the critic's warm-up: the policy is the SFT weights still, the critic has moved
  const split = join(dir, 'split');
  const warm = await run(split, 1);
  assert.equal(warm.steps[0]!.critic_warmup, true);
  assert.ok(same(tensors(split), tensors(base)), 'the policy does not move during the warm-up');
  assert.ok(!same(tensors(join(split, 'critic')), tensors(rm)), 'the critic does');
  assert.equal(warm.steps[0]!.reward_normalized, 0, 'the first batch is centred on its own mean');
  assert.equal(warm.steps[0]!.logprob_gap, 0, 'the training forward reproduces the sampler (fp32)');

  const whole = await run(join(dir, 'whole'), 3);
  // the running mean is the mean of every raw score so far (equal batches)
  whole.steps.forEach((s, i) => {
    const mean = whole.steps.slice(0, i + 1).reduce((a, x) => a + x.reward, 0) / (i + 1);
    assert.ok(Math.abs(s.reward_mean - mean) < 1e-4, `step ${s.step}: running mean ${s.reward_mean} vs ${mean}`);
    assert.ok(Math.abs(s.reward_normalized - (s.reward - s.reward_mean)) < 1e-4);
  });
  const updates = whole.steps.slice(1);
  assert.ok(updates.some((s) => s.policy_clipfrac > 0), `the policy's ratio clip acts: ${updates.map((s) => s.policy_clipfrac)}`);
  assert.ok(whole.steps.some((s) => s.value_clipfrac > 0), `the value clip acts: ${whole.steps.map((s) => s.value_clipfrac)}`);

  // the split run resumed continues as if it had never stopped
  const resumed = await run(split, 3, true);
  const strip = ({ rollout_s, train_s, tokens_per_s, ...rest }: PpoStepRecord) => rest;
  assert.deepEqual(resumed.steps.map(strip), whole.steps.slice(1).map(strip));
  assert.ok(same(tensors(split), tensors(join(dir, 'whole'))), 'the same policy weights');
  assert.ok(same(tensors(join(split, 'critic')), tensors(join(dir, 'whole', 'critic'))), 'the same critic weights');
  assert.deepEqual(JSON.parse(readFileSync(join(split, 'ppo_state.json'), 'utf8')).reward_moments, JSON.parse(readFileSync(join(dir, 'whole', 'ppo_state.json'), 'utf8')).reward_moments);
});
