// Rollout speed inside `loom ppo` against standalone `loom generate`, on the same model, prompts,
// sampling settings and batch, in the same run (both as a user runs them). PPO runs with its critic
// warming up for every step, so the policy that samples never moves from the SFT checkpoint that
// `generate` loads.
//
//   node --import tsx bench/ppo-rollout.ts --policy SFT --reward RM --pairs prefs.jsonl \
//     [--steps 8] [--prompts-per-step 32] [--samples 2] [--max-new 64] [--temperature 1] [--device cuda]
//
// One JSON line: new tokens/s of each (the stop token not counted, as generate counts), the mean
// response length, and the ratio (issue #18's target: PPO's rollouts at >= 80% of generate's).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const flag = (name: string, fallback?: string): string => {
  const i = args.indexOf(`--${name}`);
  if (i >= 0) return args[i + 1]!;
  if (fallback === undefined) throw new Error(`bench/ppo-rollout: --${name} is required`);
  return fallback;
};
const policy = flag('policy'), reward = flag('reward'), pairs = flag('pairs');
const steps = Number(flag('steps', '8')), perStep = Number(flag('prompts-per-step', '32')), samples = Number(flag('samples', '2'));
const maxNew = flag('max-new', '64'), temperature = flag('temperature', '1'), device = flag('device', 'auto');
const root = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'loom-ppo-rollout-'));

function run(argv: string[], stdout?: string): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', ...argv], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${argv.slice(0, 2).join(' ')} exited ${r.status}:\n${r.stderr.slice(-2000)}`);
  if (stdout) writeFileSync(stdout, r.stdout);
  return r.stderr;
}

try {
  // exactly one epoch of PPO's prompts, so both answer the same prompts, each `samples` times
  const prompts = join(work, 'prompts.jsonl');
  run(['examples/alignment/prompts-of-pairs.ts', pairs, '-n', String(steps * perStep)], prompts);
  const metrics = join(work, 'ppo-metrics.jsonl');
  run([
    'bin/loom.ts', 'ppo', '--policy', policy, '--reward', reward, '--prompts', prompts, '--val-fraction', '0',
    '--steps', String(steps), '--critic-warmup', String(steps), '--prompts-per-step', String(perStep),
    '--samples-per-prompt', String(samples), '--max-new', maxNew, '--temperature', temperature, '--top-p', '0.9',
    '--eval-every', '0', '--save-every', '0', '--device', device, '--out', join(work, 'ppo'), '--metrics', metrics, '--quiet',
  ]);
  const records = readFileSync(metrics, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.rollout_s !== undefined);
  const rollouts = perStep * samples;
  // response_len counts the stop token of an ended response; generate's new tokens do not
  const ppoTokens = records.reduce((a, r) => a + (r.response_len - r.ended) * rollouts, 0);
  const ppoSeconds = records.reduce((a, r) => a + r.rollout_s, 0);

  const answers = join(work, 'answers.jsonl');
  const said = run(['bin/loom.ts', 'generate', policy, prompts, '--chat', '--json', '-n', String(samples), '-t', temperature, '--top-p', '0.9', '--max-new-tokens', maxNew, '--max-batch', String(rollouts), '--device', device, '--seed', '1'], answers);
  const outs = readFileSync(answers, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const genTokens = outs.reduce((a, o) => a + o.completion_tokens, 0);
  // generate's own rate (model load excluded, as PPO's rollout time excludes it), from its summary line
  const rate = /new tokens at ([\d.]+)(k|M)? tokens\/s/.exec(said);
  if (!rate) throw new Error(`bench/ppo-rollout: no rate in generate's summary:\n${said.slice(-500)}`);
  const generateRate = Number(rate[1]) * (rate[2] === 'M' ? 1e6 : rate[2] === 'k' ? 1e3 : 1);
  const ppoRate = ppoTokens / ppoSeconds;
  console.log(JSON.stringify({
    bench: 'ppo-rollout',
    device,
    steps: records.length,
    batch: rollouts,
    ppo: { new_tokens: Math.round(ppoTokens), rollout_s: Number(ppoSeconds.toFixed(3)), new_tokens_per_s: Math.round(ppoRate), mean_response: Number((ppoTokens / (records.length * rollouts)).toFixed(1)) },
    generate: { new_tokens: genTokens, new_tokens_per_s: Math.round(generateRate), mean_response: Number((genTokens / outs.length).toFixed(1)) },
    ratio: Number((ppoRate / generateRate).toFixed(3)),
  }));
} finally {
  rmSync(work, { recursive: true, force: true });
}
