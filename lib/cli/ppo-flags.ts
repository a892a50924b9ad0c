// The flags of `loom ppo`, declared once (commands/ppo.ts registers them, PpoArgs is inferred from
// them); unset tuning flags take the preset's value. Light on purpose: no trainer, no kernels.
import type { InferredOptionTypes, Options } from 'yargs';
import { UsageError } from '../errors.js';
import { PPO_PRESETS } from '../train/ppo-presets.js';
import { LOOP_FLAGS } from './model-flags.js';
import type { GlobalArgs } from './options.js';
import { outputsOf, refuseOutputsOverInputs } from './paths.js';
import { fraction, nonNegativeInteger, nonNegativeNumber, positiveInteger, positiveNumber, validator } from './validate.js';

const unitInterval = (flag: string) => validator<number>(flag, 'a number above 0 and at most 1', (v) => v > 0 && v <= 1);

export const PPO_FLAGS = {
  policy: { type: 'string', describe: 'The SFT checkpoint to start the policy from (also the frozen reference unless --reference)' },
  reward: { type: 'string', describe: 'The reward model (loom rm); frozen. The critic starts from it unless --critic' },
  reference: { type: 'string', describe: 'The frozen reference of the KL penalty (default: --policy)' },
  critic: { type: 'string', describe: 'Where the critic (value head) starts (default: --reward)' },
  prompts: { type: 'string', array: true, demandOption: true, describe: 'Prompt records: prompt or messages (ChatML), or preference pairs (their prompt)' },
  'val-prompts': { type: 'string', array: true, describe: 'Held-out prompts for evaluation (default: --val-fraction of --prompts)' },
  'ptx-data': { type: 'string', describe: 'Token shards for the pre-training loss mixed into the policy update' },
  preset: { choices: Object.keys(PPO_PRESETS) as (keyof typeof PPO_PRESETS)[], default: 'qwen' as const, describe: "The recipe unset flags come from (the Qwen report's)" },
  'prompts-per-step': { type: 'number', coerce: positiveInteger('--prompts-per-step'), describe: 'Prompts sampled each step' },
  'samples-per-prompt': { type: 'number', coerce: positiveInteger('--samples-per-prompt'), describe: 'Responses to each prompt (report: 2)' },
  batch: { alias: 'b', type: 'number', coerce: positiveInteger('--batch'), describe: 'Sequences per forward pass when pricing and updating' },
  'max-prompt-len': { type: 'number', coerce: positiveInteger('--max-prompt-len'), describe: 'Longer prompts are dropped (to --rejects)' },
  'max-new': { type: 'number', coerce: positiveInteger('--max-new'), describe: 'Most tokens a response may have; one that never ends is penalized' },
  temperature: { type: 'number', coerce: nonNegativeNumber('--temperature'), describe: 'Sampling temperature of the rollouts' },
  'top-p': { type: 'number', coerce: unitInterval('--top-p'), describe: 'Nucleus sampling of the rollouts (report: 0.9)' },
  'kl-coef': { type: 'number', coerce: nonNegativeNumber('--kl-coef'), describe: 'Per-token KL penalty against the reference (report: 0.04)' },
  'kl-target': { type: 'number', coerce: positiveNumber('--kl-target'), describe: 'Adapt the KL coefficient toward this KL per response (Ziegler et al.); default: fixed' },
  'kl-horizon': { type: 'number', coerce: positiveInteger('--kl-horizon'), describe: 'Responses over which the adaptive coefficient moves' },
  'reward-std': { type: 'boolean', describe: 'Divide scores by their running standard deviation too (default: subtract the running mean only)' },
  'score-clip': { type: 'number', coerce: positiveNumber('--score-clip'), describe: 'Clip normalized scores to ±this' },
  'missing-eos-penalty': { type: 'number', coerce: nonNegativeNumber('--missing-eos-penalty'), describe: 'Subtracted from the normalized score of a response that never ends' },
  gamma: { type: 'number', coerce: fraction('--gamma'), describe: 'GAE discount' },
  lambda: { type: 'number', coerce: fraction('--lambda'), describe: 'GAE λ' },
  cliprange: { type: 'number', coerce: positiveNumber('--cliprange'), describe: "The policy's ratio clip ε" },
  'cliprange-value': { type: 'number', coerce: positiveNumber('--cliprange-value'), describe: "The critic's value clip around the old values (report: 0.15)" },
  'ppo-epochs': { type: 'number', coerce: positiveInteger('--ppo-epochs'), describe: 'Updates over each batch of experience' },
  'critic-warmup': { type: 'number', coerce: nonNegativeInteger('--critic-warmup'), describe: 'First steps that update only the critic (report: 50)' },
  lr: { type: 'number', coerce: positiveNumber('--lr'), describe: "The policy's learning rate (default: the report's 1e-6 for 4096 wide, × 4096/hidden size)" },
  'critic-lr': { type: 'number', coerce: positiveNumber('--critic-lr'), describe: "The critic's learning rate (default: the report's 5e-6 for 4096 wide, × 4096/hidden size)" },
  'weight-decay': { type: 'number', coerce: nonNegativeNumber('--weight-decay'), describe: 'AdamW decoupled weight decay' },
  clip: { type: 'number', coerce: nonNegativeNumber('--clip'), describe: 'Clip each model\'s global gradient norm' },
  'ptx-coef': { type: 'number', coerce: nonNegativeNumber('--ptx-coef'), describe: 'Weight of the pre-training loss (per token) against the policy loss' },
  'ptx-batch': { type: 'number', coerce: positiveInteger('--ptx-batch'), describe: 'Pre-training windows per policy update' },
  'system-prompt': { type: 'string', default: 'You are a helpful assistant.', describe: 'System prompt of conversations that have none' },
  'val-fraction': { type: 'number', coerce: fraction('--val-fraction'), describe: 'Share of --prompts held out (seeded)' },
  'eval-prompts': { type: 'number', coerce: positiveInteger('--eval-prompts'), describe: 'Held-out prompts answered at each evaluation' },
  'on-error': { choices: ['fail', 'skip'] as const, default: 'fail' as const, describe: 'A prompt that cannot be read or is too long: fail (exit 1) or drop it and go on' },
  rejects: { type: 'string', describe: 'Write every dropped prompt here (JSONL, with its reason and file:line)' },
  out: LOOP_FLAGS.out,
  device: LOOP_FLAGS.device,
  dtype: LOOP_FLAGS.dtype,
  steps: { ...LOOP_FLAGS.steps, describe: 'PPO steps (each: rollouts, then updates) to train to' },
  warmup: LOOP_FLAGS.warmup,
  'eval-every': { ...LOOP_FLAGS['eval-every'], default: 10 },
  'save-every': { ...LOOP_FLAGS['save-every'], default: 50 },
  resume: LOOP_FLAGS.resume,
  metrics: LOOP_FLAGS.metrics,
} as const satisfies Record<string, Options>;

export type PpoArgs = GlobalArgs & InferredOptionTypes<typeof PPO_FLAGS>;

/** Usage errors between flags, before any model is loaded. */
export function checkPpoArgs(argv: PpoArgs): void {
  if (!argv.resume && (!argv.policy || !argv.reward)) throw new UsageError('give the SFT policy with --policy CKPT and the reward model with --reward CKPT (or --resume a run in --out)');
  if (argv.resume && (argv.policy || argv.reward || argv.reference || argv.critic)) throw new UsageError('--resume continues with the models of the run in --out; leave out --policy, --reward, --reference and --critic');
  if (!argv.resume && argv.steps === undefined) throw new UsageError('give the run length with --steps N');
  const inputs = [...argv.prompts, ...(argv['val-prompts'] ?? []), ...[argv.policy, argv.reward, argv.reference, argv.critic, argv['ptx-data']].filter((p): p is string => p !== undefined)];
  refuseOutputsOverInputs(inputs, outputsOf(argv));
}
