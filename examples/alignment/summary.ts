// The alignment experiment's figures in one JSON line, from the runs' metrics files:
// - SFT: the validation-loss curve of the model fine-tuned from the pretrained base and of the one
//   fine-tuned from a random init of the same shape (same steps, same batches);
// - RM: held-out accuracy of the reward model trained on the fine pairs alone and after PMP, at
//   the start and at the end of each run, against chance and against "the longer answer wins"
//   computed here on the same held-out pairs (ties count half);
// - PPO: the held-out reward and KL at each evaluation, and the wins, ties and losses of the PPO
//   model against the SFT model under each judge (`loom compare --json` records, one a line).
//
//   node --import tsx examples/alignment/summary.ts --sft M --sft-random M --rm M --rm-pmp M --held-out pairs.jsonl \
//     --ppo M --compare compare.jsonl
import { parseArgs } from 'node:util';
import { preferencePair } from '../../lib/chat/formats.js';
import { readDocs } from '../../lib/io/read.js';
import type { Doc } from '../../lib/io/types.js';

const files = ['sft', 'sft-random', 'rm', 'rm-pmp', 'held-out', 'ppo', 'compare'] as const;
const { values } = parseArgs({ options: Object.fromEntries(files.map((f) => [f, { type: 'string' }])) as Record<(typeof files)[number], { type: 'string' }> });
for (const f of files) if (!values[f]) throw new Error(`give --${f} FILE (usage at the top of summary.ts)`);

async function records(path: string): Promise<Doc[]> {
  const out: Doc[] = [];
  for await (const doc of readDocs([path])) out.push(doc);
  return out;
}

/** The run's evaluations: [step, value] of `key` in the records that have it. */
async function curve(path: string, key: string): Promise<[number, number][]> {
  return (await records(path)).filter((r) => typeof r[key] === 'number').map((r) => [r.step as number, r[key] as number]);
}

/** Share of pairs whose chosen response has more characters than the rejected one; ties count half. */
async function longerWins(path: string) {
  let score = 0, pairs = 0;
  for (const doc of await records(path)) {
    const pair = preferencePair(doc);
    if (typeof pair === 'string') continue;
    const length = (turns: { content: string }[]) => turns.reduce((n, t) => n + t.content.length, 0);
    const [c, r] = [length(pair.chosen), length(pair.rejected)];
    score += c > r ? 1 : c === r ? 0.5 : 0;
    pairs++;
  }
  return { accuracy: round(score / pairs), pairs };
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ends = (c: [number, number][]) => ({ start: c[0]?.[1], end: c.at(-1)?.[1], steps: c.at(-1)?.[0] });

const [base, random, rm, rmPmp, longer] = await Promise.all([
  curve(values.sft!, 'val_loss'),
  curve(values['sft-random']!, 'val_loss'),
  curve(values.rm!, 'val_accuracy'),
  curve(values['rm-pmp']!, 'val_accuracy'),
  longerWins(values['held-out']!),
]);
const heldOut = (await records(values.rm!)).find((r) => typeof r.val_pairs === 'number')?.val_pairs;
const ppoEvals = (await records(values.ppo!)).filter((r) => typeof r.val_reward === 'number');
const ppoSteps = (await records(values.ppo!)).filter((r) => typeof r.reward === 'number');
const judged = (await records(values.compare!)).map((c) => ({
  judge: c.judge,
  judged: c.judged,
  ...Object.fromEntries((['wins', 'ties', 'losses'] as const).map((k) => [k, (c[k] as { count: number }).count])),
}));
process.stdout.write(
  JSON.stringify({
    sft_val_loss: { base: ends(base), random: ends(random), curve_base: base, curve_random: random },
    rm_accuracy: { held_out_pairs: heldOut, chance: 0.5, longer_wins: longer.accuracy, rm: ends(rm), rm_after_pmp: ends(rmPmp), curve_rm: rm, curve_rm_after_pmp: rmPmp },
    ppo: {
      held_out: ppoEvals.map((r) => ({ step: r.step, reward: round(r.val_reward as number), kl: round(r.val_kl as number), prompts: r.val_prompts })),
      rollout_tokens_per_s: median(ppoSteps.map((r) => r.tokens_per_s as number)),
      rollout_share: round(sum(ppoSteps.map((r) => r.rollout_s as number)) / sum(ppoSteps.map((r) => (r.rollout_s as number) + (r.train_s as number)))),
      ppo_vs_sft: judged,
    },
  }) + '\n',
);
