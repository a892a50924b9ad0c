// PPO with the Qwen report's recipe, four models on one device: the policy (from an SFT
// checkpoint) and a critic (from the reward model) are trained; the reference (the SFT checkpoint)
// and the reward model are frozen inference weights. Each step samples responses through the
// generate engine, prices them (scores normalized by running statistics, a per-token KL penalty,
// GAE with whitened advantages), then takes the critic's and (after its warm-up) the policy's
// clipped updates, with an optional pre-training loss mixed into the policy's. Checkpoints hold
// both models, their optimizers, the running statistics, the KL controller and the data position,
// so a resumed run continues exactly.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openBackend, type DType } from '../../kernels/index.js';
import { preferencePair } from '../chat/formats.js';
import { DataError, UsageError } from '../errors.js';
import { encodePrompt } from '../infer/prompts.js';
import { createEngine } from '../infer/engine.js';
import type { RejectSink } from '../io/rejects.js';
import type { Doc, OnError } from '../io/types.js';
import { readCheckpoint, saveCheckpoint, type LoadedCheckpoint } from '../model/checkpoint.js';
import { parameterCount } from '../model/config.js';
import { checkpointVocabulary, loadModel } from '../model/load.js';
import { Trunk } from '../model/trunk.js';
import { stopTokenIds } from '../tokenizer/hf.js';
import { ENDOFTEXT } from '../tokenizer/special.js';
import { Tokenizer } from '../tokenizer/tokenizer.js';
import { createRandom } from '../util/random.js';
import { EpochOrder, openSplit, TrainStream } from './data.js';
import { readExamples, splitExamples } from './examples.js';
import { fineTuneModel, type FineTuneStart } from './fine-tune.js';
import { interruption } from './interruption.js';
import { round, type PpoEvalRecord, type PpoStepRecord } from './metrics.js';
import { nextTokenObjective } from './next-token.js';
import { ADAMW_DEFAULTS, Optimizer } from './optimizer.js';
import { endScores, inBatches, responseLength, responseLogprobs, responseValues, sampleRollouts, type Rollout } from './ppo-experience.js';
import { gae, mergeMoments, momentsStd, NO_MOMENTS, tokenRewards, updateKl, whiten, type KlControl, type RunningMoments } from './ppo-math.js';
import { ppoLearningRates, type PpoRecipe } from './ppo-presets.js';
import { addSums, criticPass, NO_SUMS, policyPass, type PassSums, type UpdateBatch } from './ppo-update.js';
import { learningRate } from './schedule.js';
import { readTrainerState, writeTrainingFiles, type TrainerState } from './state.js';
import type { Trainable } from './trainable.js';

/** What defines a PPO run (trainer_state.json keeps it for --resume); defaults in presets.ts. */
export interface PpoSettings {
  /** Checkpoints: the SFT policy, the reward model, the frozen reference (default: the policy) and the critic's init (default: the reward model). */
  policy: string;
  reward: string;
  reference: string;
  critic: string;
  steps: number;
  promptsPerStep: number;
  samplesPerPrompt: number;
  /** Sequences per forward pass (pricing and updates). */
  batch: number;
  maxPromptLen: number;
  maxNew: number;
  temperature: number;
  topP: number;
  klCoef: number;
  /** Adaptive KL control: the KL per response aimed at (absent: the coefficient stays fixed). */
  klTarget?: number;
  klHorizon: number;
  /** Divide scores by the running standard deviation too, not only subtract the running mean. */
  rewardStd: boolean;
  scoreClip: number;
  /** Subtracted from the normalized score of a response that never ended (ran into --max-new). */
  missingEosPenalty: number;
  gamma: number;
  lambda: number;
  clip: number;
  valueClip: number;
  ppoEpochs: number;
  criticWarmup: number;
  policyLr: number;
  criticLr: number;
  warmup: number;
  weightDecay: number;
  gradClip: number;
  ptxCoef: number;
  /** Token windows of --ptx-data per policy update. */
  ptxBatch: number;
  systemPrompt: string;
  valFraction: number;
  /** Held-out prompts answered at each evaluation. */
  evalPrompts: number;
}

export interface PpoOptions {
  /** The lrs are the recipe's scaled to the policy's width where not given (ppoLearningRates). */
  settings: Omit<PpoSettings, 'steps' | 'policyLr' | 'criticLr'> & Partial<Pick<PpoSettings, 'policyLr' | 'criticLr'>>;
  recipe: Pick<PpoRecipe, 'policyLr' | 'criticLr'>;
  steps?: number;
  prompts: string[];
  valPrompts?: string[];
  ptxData?: string;
  out: string;
  resume: boolean;
  device: string;
  dtype?: DType;
  seed: number;
  evalEvery: number;
  saveEvery: number;
  onError: OnError;
  rejects?: RejectSink;
  log: (line: string) => void;
  onRecord: (record: PpoStepRecord | PpoEvalRecord) => void;
  run: Record<string, unknown>;
  /** Called after each evaluation with all evaluations so far (the reward-against-√KL plot). */
  onEvaluations?: (evals: PpoEvalRecord[]) => void;
}

/** Where the run is besides the models' weights and moments: ppo_state.json in the checkpoint. */
interface PpoState {
  format: 'loom.ppo/1';
  /** Prompts and ptx windows consumed. */
  prompts: number;
  ptx: number;
  reward_moments: RunningMoments;
  kl: KlControl;
  critic_updates: number;
  evaluations: PpoEvalRecord[];
}

const STATE_FILE = 'ppo_state.json';
export const CRITIC_DIR = 'critic';

export interface PpoResult {
  steps: number;
  interrupted?: string;
  lastReward?: number;
  lastKl?: number;
  valReward?: number;
  rolloutSeconds: number;
  trainSeconds: number;
  prompts: { train: number; val: number; dropped: number };
  device: string;
}

interface Prompt {
  ids: Int32Array;
}

export async function ppo(o: PpoOptions): Promise<PpoResult> {
  const k = openBackend(o.device);
  const dtype: DType = o.dtype ?? (k.kind === 'cpu' ? 'f32' : 'bf16');
  if (k.kind === 'cpu' && dtype !== 'f32') throw new UsageError('--dtype bf16 needs a GPU; the CPU backend computes in fp32');
  const resumed = o.resume ? readTrainerState<number, PpoSettings>(o.out) : undefined;
  if (o.resume && !resumed) throw new DataError(`${o.out}: no trainer_state.json to resume from`);
  const policyFrom = readCheckpoint(o.resume ? o.out : o.settings.policy);
  if (policyFrom.head !== 'lm') throw new DataError(`${policyFrom.dir}: the policy must be a language model (an SFT checkpoint), not a ${policyFrom.head} model`);
  // a resumed run keeps the settings it started with
  const lrs = resumed ? undefined : ppoLearningRates(o.settings, o.recipe, policyFrom.config.hiddenSize);
  const s: PpoSettings = resumed ? { ...resumed.settings } : { ...o.settings, policyLr: lrs!.policyLr, criticLr: lrs!.criticLr, steps: o.steps ?? NaN };
  if (lrs) o.log(`ppo: ${lrs.why}`);
  if (o.steps !== undefined) s.steps = o.steps;
  if (!(s.steps >= 1)) throw new UsageError('give the run length with --steps N');
  const seed = resumed?.seed ?? o.seed;
  const maxLen = s.maxPromptLen + s.maxNew + 1;
  const capacity = s.batch * maxLen;

  const criticDir = o.resume ? join(o.out, CRITIC_DIR) : s.critic;
  const start = (from: LoadedCheckpoint, resumedState?: TrainerState<number, PpoSettings>): FineTuneStart<PpoSettings> => ({ k, dtype, from, resumed: resumedState, seed });
  // dropout is off in every model during PPO: the ratio and the values must be those of the rollout
  const policy = fineTuneModel(start(policyFrom, resumed), { maxLen, dropout: 0 }, 'lm', capacity);
  const criticFrom = readCheckpoint(criticDir);
  const critic = fineTuneModel(start(criticFrom, o.resume ? readTrainerState<number, PpoSettings>(criticDir) : undefined), { maxLen, dropout: 0 }, 'score', capacity);
  const reference = loadModel(s.reference, { device: o.device, capacity, dtype });
  const reward = loadModel(s.reward, { device: o.device, capacity, dtype });
  if (reward.checkpoint.head !== 'score') throw new DataError(`${s.reward}: not a reward model (its head is ${reward.checkpoint.head}); train one with loom rm`);
  for (const [name, m] of [['reference', reference], ['reward model', reward], ['critic', { checkpoint: criticFrom }]] as const)
    if (m.checkpoint.config.vocabSize !== policy.config.vocabSize || m.checkpoint.info.vocab_hash !== policyFrom.info.vocab_hash)
      throw new DataError(`${m.checkpoint.dir}: the ${name} was trained on another vocabulary than the policy ${policyFrom.dir} (${m.checkpoint.info.vocab} vs ${policyFrom.info.vocab})`);

  const tokenizer = new Tokenizer(checkpointVocabulary(policyFrom), { nfc: policyFrom.info.nfc });
  const padId = tokenizer.vocab.specials[ENDOFTEXT]!;
  // responses end at <|im_end|> (and whatever else the checkpoint ends sequences with), as in generate
  const stopTokens = [...new Set([...policyFrom.eosIds, ...stopTokenIds(tokenizer.vocab)])];
  let prompts: { train: Prompt[]; val: Prompt[]; dropped: number };
  try {
    prompts = await readPrompts(o, s, tokenizer, seed);
  } finally {
    tokenizer.free();
  }
  if (prompts.train.length === 0) throw new DataError(`${o.prompts.join(' ')}: no prompt to train on (${prompts.dropped} dropped)`);

  const state: PpoState = o.resume ? readPpoState(o.out) : { format: 'loom.ppo/1', prompts: 0, ptx: 0, reward_moments: NO_MOMENTS, kl: { coef: s.klCoef, ...(s.klTarget !== undefined && { target: s.klTarget, horizon: s.klHorizon }) }, critic_updates: 0, evaluations: [] };
  const ptx = o.ptxData && s.ptxCoef > 0 ? new TrainStream(openSplit(o.ptxData, 'train', Math.min(maxLen, policy.config.seqLen), policyFrom.info.vocab_hash || undefined), seed) : null;
  const ptxObjective = ptx && nextTokenObjective(policy.trunk, 0);

  const rolloutBatch = s.promptsPerStep * s.samplesPerPrompt;
  const vocabIds = policyFrom.info.vocab_ids || policy.config.vocabSize;
  const engine = createEngine({ k, weights: policy.weights, trunk: new Trunk(k, policy.config, policy.weights, Math.max(rolloutBatch, Math.min(rolloutBatch * s.maxPromptLen, capacity))) }, { maxBatch: rolloutBatch, contextLength: maxLen, vocabIds });
  const sampling = { maxNew: s.maxNew, temperature: s.temperature, topP: s.topP, topK: 0, repetitionPenalty: 1, stopTokens };
  const policyOpt = new Optimizer(k, policy.params, { ...ADAMW_DEFAULTS, weightDecay: s.weightDecay, clip: s.gradClip });
  const criticOpt = new Optimizer(k, critic.params, { ...ADAMW_DEFAULTS, weightDecay: s.weightDecay, clip: s.gradClip });
  const order = new EpochOrder(prompts.train.length, seed);
  const lossSum = k.alloc([1]);

  o.log(
    `ppo: policy ${(parameterCount(policy.config) / 1e6).toFixed(1)}M from ${s.policy}, critic from ${s.critic}, reference ${s.reference}, reward model ${s.reward}; ` +
      `on ${k.device} (${k.name}), ${dtype}; ${prompts.train.length} prompts (${prompts.val.length} held out, ${prompts.dropped} dropped); ` +
      `${s.promptsPerStep}×${s.samplesPerPrompt} responses a step; steps ${resumed?.step ?? 0}→${s.steps}; KV cache ${(engine.cacheBytes / 2 ** 20).toFixed(0)} MiB`,
  );

  let step = resumed?.step ?? 0;
  let policyUpdates = resumed?.optimizer_step ?? 0;
  let last: PpoStepRecord | undefined;
  let rolloutSeconds = 0, trainSeconds = 0;
  const stop = interruption(true, o.log);

  const save = (why: string) => {
    const trainer = (updates: number): TrainerState<number, PpoSettings> => ({ format: 'loom.trainer/2', step, optimizer_step: updates, position: state.prompts, tokens: 0, seed, settings: s, run: resumed ? resumed.run : o.run, saved_at: new Date().toISOString() });
    saveCheckpoint(o.out, policy.params, policy.config, policy.info, {
      head: 'lm',
      training: (dir) => writeTrainingFiles(dir, policy.params, trainer(policyUpdates)),
      extra: (dir) => {
        saveCheckpoint(join(dir, CRITIC_DIR), critic.params, critic.config, critic.info, { head: 'score', training: (d) => writeTrainingFiles(d, critic.params, trainer(state.critic_updates)) });
        writeFileSync(join(dir, STATE_FILE), JSON.stringify(state, null, 2) + '\n');
      },
    });
    o.log(`ppo: checkpoint ${o.out} at step ${step} (${why})`);
  };

  const evaluate = async () => {
    if (prompts.val.length === 0) return;
    const held = prompts.val.slice(0, s.evalPrompts).map((p, i) => ({ ordinal: i, ids: p.ids }));
    // the same seeds at every evaluation, so the curve follows the policy and not the draw
    const rollouts = await sampleRollouts(engine, held, { samples: 1, sampling, seed: seed ^ 0x5eed });
    const logprobs = inBatches(rollouts, s.batch, (part) => responseLogprobs(policy.trunk, part, padId));
    const ref = inBatches(rollouts, s.batch, (part) => responseLogprobs(reference.trunk, part, padId));
    const scores = inBatches(rollouts, s.batch, (part) => endScores(reward.trunk, part, padId));
    const kls = logprobs.map((lp, r) => lp.reduce((a, x, t) => a + x - ref[r]![t]!, 0));
    const record: PpoEvalRecord = { step, val_reward: round(mean(scores)), val_kl: round(mean(kls)), val_response_len: round(mean(rollouts.map(responseLength))), val_ended: round(mean(rollouts.map((r) => (r.ended ? 1 : 0)))), val_prompts: held.length };
    state.evaluations.push(record);
    o.onRecord(record);
    o.onEvaluations?.(state.evaluations);
  };

  try {
    if (o.evalEvery > 0 && step === 0) await evaluate();
    while (step < s.steps && !stop.reason) {
      const t0 = performance.now();
      const batch = Array.from({ length: s.promptsPerStep }, (_, i) => {
        const ordinal = state.prompts + i;
        return { ordinal, ids: prompts.train[order.index(ordinal)]!.ids };
      });
      state.prompts += s.promptsPerStep;
      const rollouts = await sampleRollouts(engine, batch, { samples: s.samplesPerPrompt, sampling, seed });
      const t1 = performance.now();

      const oldLogprobs = inBatches(rollouts, s.batch, (part) => responseLogprobs(policy.trunk, part, padId));
      const gap = logprobGap(rollouts, oldLogprobs);
      if (step === 0 && !o.resume) checkRolloutLogprobs(gap, dtype);
      const refLogprobs = inBatches(rollouts, s.batch, (part) => responseLogprobs(reference.trunk, part, padId));
      const oldValues = inBatches(rollouts, s.batch, (part) => responseValues(critic.trunk, part, padId));
      const raw = inBatches(rollouts, s.batch, (part) => endScores(reward.trunk, part, padId));

      state.reward_moments = mergeMoments(state.reward_moments, raw);
      const scale = s.rewardStd ? momentsStd(state.reward_moments) : 1;
      const scores = raw.map((x, r) => {
        const normalized = (x - state.reward_moments.mean) / scale - (rollouts[r]!.ended ? 0 : s.missingEosPenalty);
        return Math.min(Math.max(normalized, -s.scoreClip), s.scoreClip);
      });
      const kls = oldLogprobs.map((lp, r) => lp.reduce((a, x, t) => a + x - refLogprobs[r]![t]!, 0));
      const klCoef = state.kl.coef;
      const estimates = rollouts.map((_, r) => gae(tokenRewards(scores[r]!, oldLogprobs[r]!, refLogprobs[r]!, klCoef), oldValues[r]!, s.gamma, s.lambda));
      const advantages = estimates.map((e) => e.advantages);
      whiten(advantages);
      const experience: UpdateBatch = { rollouts, oldLogprobs, oldValues, advantages, returns: estimates.map((e) => e.returns) };

      const warming = step < s.criticWarmup;
      let policyStats: PassSums = NO_SUMS, criticStats: PassSums = NO_SUMS, ptxLoss = NaN;
      let policyNorm = NaN, criticNorm = NaN;
      const lrAt = (peak: number) => learningRate({ peak, warmup: s.warmup, total: s.steps, minRatio: 1 }, step);
      for (let epoch = 0; epoch < s.ppoEpochs; epoch++) {
        const c = update(critic.params, criticOpt, experience, s, (part, gradScale) => criticPass(critic.trunk, critic.params.grad, part, { clip: s.valueClip, padId, gradScale }));
        criticStats = c.sums;
        criticNorm = c.norm;
        if (Number.isFinite(c.norm)) criticOpt.update(lrAt(s.criticLr), ++state.critic_updates);
        if (warming) continue;
        const p = update(policy.params, policyOpt, experience, s, (part, gradScale) => policyPass(policy.trunk, policy.params.grad, part, { clip: s.clip, padId, gradScale }), () => {
          if (!ptx || !ptxObjective) return;
          // the pre-training batch in micro-batches of --batch windows, its loss averaged over all of them
          const parts = Array.from({ length: Math.ceil(s.ptxBatch / s.batch) }, (_, i) => ptx.batch(state.ptx + i * s.batch, Math.min(s.batch, s.ptxBatch - i * s.batch), vocabIds));
          state.ptx += s.ptxBatch;
          const counted = parts.reduce((a, b) => a + ptxObjective.counted(b), 0);
          k.zero(lossSum);
          for (const windows of parts) ptxObjective.run(windows, { grads: policy.params.grad, gradScale: s.ptxCoef / Math.max(counted, 1), lossSum, dropoutSeed: 0 });
          ptxLoss = (k.download(lossSum) as Float32Array)[0]! / Math.max(counted, 1);
        });
        policyStats = p.sums;
        policyNorm = p.norm;
        if (Number.isFinite(p.norm)) policyOpt.update(lrAt(s.policyLr), ++policyUpdates);
      }
      state.kl = updateKl(state.kl, mean(kls), rollouts.length);
      step += 1;
      const t2 = performance.now();
      rolloutSeconds += (t1 - t0) / 1000;
      trainSeconds += (t2 - t1) / 1000;
      const generated = rollouts.reduce((a, r) => a + responseLength(r), 0);
      last = {
        step,
        loss: round(ratio(policyStats.loss, policyStats.tokens) + ratio(criticStats.loss, criticStats.tokens)),
        lr: warming ? 0 : Number(lrAt(s.policyLr).toPrecision(6)),
        grad_norm: round(policyNorm),
        tokens: state.prompts * s.samplesPerPrompt,
        tokens_per_s: Math.round(generated / ((t1 - t0) / 1000)),
        mfu: null,
        reward: round(mean(raw)),
        reward_normalized: round(mean(scores)),
        reward_mean: round(state.reward_moments.mean),
        kl: round(mean(kls)),
        kl_coef: Number(klCoef.toPrecision(6)),
        policy_loss: round(ratio(policyStats.loss, policyStats.tokens)),
        policy_clipfrac: round(ratio(policyStats.clipped, policyStats.tokens)),
        value_loss: round(ratio(criticStats.loss, criticStats.tokens)),
        value_clipfrac: round(ratio(criticStats.clipped, criticStats.tokens)),
        critic_grad_norm: round(criticNorm),
        entropy: round(-oldLogprobs.reduce((a, lp) => a + lp.reduce((b, x) => b + x, 0), 0) / Math.max(1, oldLogprobs.reduce((a, lp) => a + lp.length, 0))),
        response_len: round(generated / rollouts.length),
        ended: round(mean(rollouts.map((r) => (r.ended ? 1 : 0)))),
        logprob_gap: round(gap.mean),
        ...(Number.isFinite(ptxLoss) && { ptx_loss: round(ptxLoss) }),
        ...(warming && { critic_warmup: true as const }),
        rollout_s: round((t1 - t0) / 1000),
        train_s: round((t2 - t1) / 1000),
      };
      o.onRecord(last);
      if (o.evalEvery > 0 && (step % o.evalEvery === 0 || step === s.steps)) await evaluate();
      if (o.saveEvery > 0 && step % o.saveEvery === 0 && step < s.steps) save(`every ${o.saveEvery} steps`);
      await new Promise((resolve) => setImmediate(resolve));
    }
    save(stop.reason ?? 'end of run');
  } finally {
    stop.dispose();
    engine.close();
    k.free(lossSum);
  }
  const lastEval = state.evaluations[state.evaluations.length - 1];
  return {
    steps: step,
    interrupted: stop.reason,
    lastReward: last?.reward,
    lastKl: last?.kl,
    valReward: lastEval?.val_reward,
    rolloutSeconds,
    trainSeconds,
    prompts: { train: prompts.train.length, val: prompts.val.length, dropped: prompts.dropped },
    device: `${k.device} (${k.name})`,
  };
}

/** One optimizer step's gradients over the whole experience, micro-batch by micro-batch, normalized by its response tokens. */
function update(params: Trainable, optimizer: Optimizer, b: UpdateBatch, s: PpoSettings, pass: (part: UpdateBatch, gradScale: number) => PassSums, extra?: () => void) {
  params.zeroGrads();
  const tokens = b.oldLogprobs.reduce((a, lp) => a + lp.length, 0);
  let sums = NO_SUMS;
  for (let i = 0; i < b.rollouts.length; i += s.batch) {
    const part = <T,>(xs: readonly T[]) => xs.slice(i, i + s.batch);
    sums = addSums(sums, pass({ rollouts: part(b.rollouts), oldLogprobs: part(b.oldLogprobs), oldValues: part(b.oldValues), advantages: part(b.advantages), returns: part(b.returns) }, 1 / Math.max(tokens, 1)));
  }
  extra?.();
  return { sums, norm: optimizer.gradNorm() };
}

/** How far the training forward's log-probs are from the sampler's, over the tokens both have. */
function logprobGap(rollouts: readonly Rollout[], logprobs: readonly Float32Array[]) {
  let sum = 0, n = 0, max = 0;
  rollouts.forEach((r, i) => {
    r.sampleLogprobs.forEach((x, t) => {
      const d = Math.abs(x - logprobs[i]![t]!);
      sum += d;
      n += 1;
      max = Math.max(max, d);
    });
  });
  return { mean: n > 0 ? sum / n : 0, max };
}

/**
 * Before the first update, the training forward must reproduce the sampler's log-probabilities:
 * otherwise the importance ratios would be wrong from the start. fp32 agrees to rounding; bf16
 * runs two different kernels' roundings, so its bound is on the mean.
 */
function checkRolloutLogprobs(gap: { mean: number; max: number }, dtype: DType): void {
  const ok = dtype === 'f32' ? gap.max < 1e-3 : gap.mean < 0.05;
  if (!ok)
    throw new DataError(
      `ppo: the training forward does not reproduce the rollout log-probabilities (mean gap ${gap.mean.toExponential(2)}, largest ${gap.max.toExponential(2)} in ${dtype}); ` +
        'the engine and the trainer disagree about the model, so the PPO ratios would be meaningless',
    );
}

async function readPrompts(o: PpoOptions, s: Omit<PpoSettings, 'steps'>, tokenizer: Tokenizer, seed: number) {
  const encode = (doc: Doc): Prompt | { drop: string } => {
    const pair = 'chosen' in doc && !('messages' in doc) && !('prompt' in doc && typeof doc.prompt === 'string') ? preferencePair(doc) : undefined;
    const source: Doc = pair && typeof pair !== 'string' ? { messages: pair.prompt } : doc;
    const ids = encodePrompt(source, tokenizer, { systemPrompt: s.systemPrompt, chat: true });
    if (typeof ids === 'string') return { drop: typeof pair === 'string' ? pair : ids };
    if (ids.length > s.maxPromptLen) return { drop: `the prompt has ${ids.length} tokens, more than --max-prompt-len ${s.maxPromptLen}` };
    return { ids: Int32Array.from(ids) };
  };
  const read = { onError: o.onError, rejects: o.rejects, log: o.log, stage: 'ppo' };
  const main = await readExamples(o.prompts, encode, read);
  const held = o.valPrompts ? await readExamples(o.valPrompts, encode, read) : undefined;
  const split = held ? { train: main.examples, val: held.examples } : splitExamples(main.examples, s.valFraction, createRandom(seed ^ 0x99f));
  return { ...split, dropped: main.dropped + (held?.dropped ?? 0) };
}

function readPpoState(out: string): PpoState {
  const path = join(out, STATE_FILE);
  if (!existsSync(path)) throw new DataError(`${out}: no ${STATE_FILE}; it is not a PPO run to resume`);
  return JSON.parse(readFileSync(path, 'utf8')) as PpoState;
}

function mean(xs: readonly number[]): number {
  return xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

function ratio(a: number, b: number): number {
  return b > 0 ? a / b : 0;
}
