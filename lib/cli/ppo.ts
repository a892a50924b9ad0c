// `loom ppo` glue: the run (on lib/cli/training.ts, with reward and KL charted on the dashboard)
// with the preset's values where flags leave them, the reward-against-√KL plot written into the
// checkpoint at each evaluation, and the closing summary.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PpoEvalRecord } from '../train/metrics.js';
import { PPO_PRESETS } from '../train/ppo-presets.js';
import { ppo } from '../train/ppo.js';
import { lineChartSvg } from '../ui/svg-chart.js';
import type { PpoArgs } from './ppo-flags.js';
import { runTraining } from './training.js';

export const REWARD_KL_PLOT = 'reward-kl.svg';

export async function runPpo(argv: PpoArgs, run: Record<string, unknown>): Promise<void> {
  const p = PPO_PRESETS[argv.preset];
  const out = argv.out;
  await runTraining(
    'ppo',
    { ...argv, gpus: 1, 'master-port': 0 },
    ({ device, log, emit }, rejects) =>
      ppo({
        settings: {
          policy: argv.policy ?? '',
          reward: argv.reward ?? '',
          reference: argv.reference ?? argv.policy ?? '',
          critic: argv.critic ?? argv.reward ?? '',
          promptsPerStep: argv['prompts-per-step'] ?? p.promptsPerStep,
          samplesPerPrompt: argv['samples-per-prompt'] ?? p.samplesPerPrompt,
          batch: argv.batch ?? p.batch,
          maxPromptLen: argv['max-prompt-len'] ?? p.maxPromptLen,
          maxNew: argv['max-new'] ?? p.maxNew,
          temperature: argv.temperature ?? p.temperature,
          topP: argv['top-p'] ?? p.topP,
          klCoef: argv['kl-coef'] ?? p.klCoef,
          ...(argv['kl-target'] !== undefined && { klTarget: argv['kl-target'] }),
          klHorizon: argv['kl-horizon'] ?? p.klHorizon,
          rewardStd: argv['reward-std'] ?? p.rewardStd,
          scoreClip: argv['score-clip'] ?? p.scoreClip,
          missingEosPenalty: argv['missing-eos-penalty'] ?? p.missingEosPenalty,
          gamma: argv.gamma ?? p.gamma,
          lambda: argv.lambda ?? p.lambda,
          clip: argv.cliprange ?? p.clip,
          valueClip: argv['cliprange-value'] ?? p.valueClip,
          ppoEpochs: argv['ppo-epochs'] ?? p.ppoEpochs,
          criticWarmup: argv['critic-warmup'] ?? p.criticWarmup,
          policyLr: argv.lr,
          criticLr: argv['critic-lr'],
          warmup: argv.warmup ?? p.warmup,
          weightDecay: argv['weight-decay'] ?? p.weightDecay,
          gradClip: argv.clip ?? p.gradClip,
          ptxCoef: argv['ptx-coef'] ?? p.ptxCoef,
          ptxBatch: argv['ptx-batch'] ?? p.ptxBatch,
          systemPrompt: argv['system-prompt'],
          valFraction: argv['val-fraction'] ?? p.valFraction,
          evalPrompts: argv['eval-prompts'] ?? p.evalPrompts,
        },
        recipe: p,
        steps: argv.steps,
        prompts: argv.prompts,
        valPrompts: argv['val-prompts'],
        ptxData: argv['ptx-data'],
        out,
        resume: argv.resume ?? false,
        device,
        dtype: argv.dtype,
        seed: argv.seed,
        evalEvery: argv['eval-every'],
        saveEvery: argv['save-every'],
        onError: argv['on-error'],
        rejects,
        log,
        onRecord: emit,
        run,
        onEvaluations: (evals) => writeRewardKlPlot(out, evals),
      }),
    (r) => {
      const val = r.valReward !== undefined ? `, held-out reward ${r.valReward.toFixed(4)}` : '';
      const split = r.rolloutSeconds + r.trainSeconds > 0 ? `; time ${((100 * r.rolloutSeconds) / (r.rolloutSeconds + r.trainSeconds)).toFixed(0)}% rollouts, ${((100 * r.trainSeconds) / (r.rolloutSeconds + r.trainSeconds)).toFixed(0)}% training` : '';
      return `step ${r.steps}, reward ${r.lastReward?.toFixed(4) ?? '–'}, KL ${r.lastKl?.toFixed(4) ?? '–'}${val} on ${r.device}; ${r.prompts.train} prompts, ${r.prompts.dropped} dropped${split}; checkpoint ${out}`;
    },
    { charts: [{ key: 'reward', label: 'reward' }, { key: 'kl', label: 'KL' }] },
  );
}

/** The held-out reward against √KL at each evaluation, as OUT/reward-kl.svg (carried into every later checkpoint). */
function writeRewardKlPlot(out: string, evals: readonly PpoEvalRecord[]): void {
  mkdirSync(out, { recursive: true });
  const points = evals.map((e) => ({ x: Math.sqrt(Math.max(0, e.val_kl)), y: e.val_reward, label: `${e.step}` }));
  writeFileSync(join(out, REWARD_KL_PLOT), lineChartSvg(points, { title: 'PPO: held-out reward against √KL (labels: step)', xLabel: '√KL(policy ‖ reference) per response', yLabel: 'reward model score' }));
}
