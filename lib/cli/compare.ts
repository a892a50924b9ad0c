// `loom compare` glue: the two files matched into items, judged by a reward model or by hand
// (lib/ui/compare.tsx, judgements kept in --state), then the report on stdout (a table, or one
// JSON record with --json) and each item's judgement in --out.
import { writeFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { CompareSession, judgeWithRewardModel, JudgementLog, pairAnswers, tally, formatReport, type CompareItem, type Judgement, type MatchBy } from '../eval/compare.js';
import type { GlobalArgs } from './options.js';

export interface CompareArgs extends GlobalArgs {
  a: string;
  b: string;
  judge: string;
  by: MatchBy;
  'tie-margin': number;
  state?: string;
  out?: string;
  json: boolean;
  device: string;
  batch: number;
  'max-len': number;
  'system-prompt': string;
}

export async function runCompare(argv: CompareArgs): Promise<void> {
  const items = await pairAnswers(argv.a, argv.b, argv.by);
  const judgements = argv.judge === 'human' ? await judgeByHand(items, argv) : await judgeWithRewardModel(items, { checkpoint: argv.judge, device: argv.device, batch: argv.batch, maxLen: argv['max-len'], systemPrompt: argv['system-prompt'], tieMargin: argv['tie-margin'] });
  const report = tally(judgements, { a: argv.a, b: argv.b, judge: argv.judge });
  if (argv.out) {
    const byKey = new Map(items.map((item) => [item.key, item]));
    writeFileSync(argv.out, judgements.map((j) => JSON.stringify({ ...j, a_at: byKey.get(j.key)!.at.a, b_at: byKey.get(j.key)!.at.b })).join('\n') + (judgements.length > 0 ? '\n' : ''));
  }
  process.stdout.write(argv.json ? JSON.stringify(report) + '\n' : formatReport(report));
  if (!argv.quiet && judgements.length < items.length) process.stderr.write(`loom compare: ${items.length - judgements.length} of ${items.length} prompts not judged yet; rerun to carry on\n`);
}

/** The judgements in --state for these items, after a session at the terminal for those it lacks. */
async function judgeByHand(items: CompareItem[], argv: CompareArgs): Promise<Judgement[]> {
  if (!argv.state) throw new UsageError('--judge human keeps its judgements in a file: give --state FILE (a rerun carries on from it)');
  const log = JudgementLog.open(argv.state);
  try {
    const session = new CompareSession(items, log, argv.seed);
    if (session.queue.length > 0) {
      if (!process.stdin.isTTY || !process.stderr.isTTY) throw new UsageError('--judge human is interactive: run it in a terminal (stdin and stderr)');
      await (await import('../ui/compare.js')).runCompareView(session);
    }
    return items.flatMap((item) => log.judged.get(item.key) ?? []);
  } finally {
    log.close();
  }
}
