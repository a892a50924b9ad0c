// `loom compare`: two models' answers to the same prompts, judged pair by pair (by a reward model,
// or by a person in lib/ui/compare.tsx), counted as the Qwen report's wins, ties and losses of A
// against B with a 95% Wilson score interval for each share.
//
// The answers are `loom generate` records (`prompt` or `messages`, and `completion`); the two files
// are matched by prompt (the prompt's text or messages, and the `sample` index under -n) or by line,
// and anything that does not match is refused with its file:line.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { promptConversation } from '../chat/formats.js';
import { DataError } from '../errors.js';
import { locationOf } from '../io/location.js';
import { readDocs } from '../io/read.js';
import type { Doc } from '../io/types.js';
import { scoreRewards } from '../infer/rewards.js';
import type { ChatMessage } from '../tokenizer/chatml.js';

export type MatchBy = 'prompt' | 'line';

/** One prompt with both answers. */
export interface CompareItem {
  /** What matches the two records (and a judgement to its item across runs). */
  key: string;
  prompt: ChatMessage[];
  a: string;
  b: string;
  /** file:line of each answer. */
  at: { a: string; b: string };
}

/** Which answer is better: A's, B's, or neither. */
export type Verdict = 'a' | 'b' | 'tie';

export interface Judgement {
  key: string;
  winner: Verdict;
  judge: string;
  reward_a?: number;
  reward_b?: number;
  /** Human judging: which model's answer was shown first ('ab': A's). */
  shown?: 'ab' | 'ba';
}

interface Answer {
  key: string;
  prompt: ChatMessage[];
  completion: string;
  at: string;
}

/** A generate record's prompt (a `prompt` string is one user turn), its match key and completion, or why it has none. */
export function answerOf(doc: Doc): Omit<Answer, 'at'> | string {
  if (typeof doc.completion !== 'string') return 'no "completion" (a loom generate --json record has one)';
  const source = 'messages' in doc ? doc.messages : doc.prompt;
  let prompt: ChatMessage[] | string;
  if (typeof source === 'string') prompt = [{ role: 'user', content: source }];
  else if (Array.isArray(source) && source.length > 0) prompt = promptConversation(source);
  else prompt = 'no "prompt" or "messages"';
  if (typeof prompt === 'string') return prompt;
  const sample = typeof doc.sample === 'number' ? `#${doc.sample}` : '';
  return { key: JSON.stringify(source) + sample, prompt, completion: doc.completion };
}

async function readAnswers(path: string): Promise<Answer[]> {
  const answers: Answer[] = [];
  for await (const doc of readDocs([path], { onError: 'fail' })) {
    const loc = locationOf(doc);
    const at = loc ? `${loc.file}:${loc.line}` : path;
    const answer = answerOf(doc);
    if (typeof answer === 'string') throw new DataError(`${at}: ${answer}`);
    answers.push({ ...answer, at });
  }
  return answers;
}

/** The items both files answer, in A's order; a prompt one file lacks, repeats or answers elsewhere is refused. */
export async function pairAnswers(aPath: string, bPath: string, by: MatchBy): Promise<CompareItem[]> {
  const [as, bs] = [await readAnswers(aPath), await readAnswers(bPath)];
  const item = (a: Answer, b: Answer, key: string): CompareItem => ({ key, prompt: a.prompt, a: a.completion, b: b.completion, at: { a: a.at, b: b.at } });
  if (by === 'line') {
    if (as.length !== bs.length) throw new DataError(`${aPath} has ${as.length} answers, ${bPath} ${bs.length}: matched by line, they must have as many`);
    return as.map((a, i) => {
      const b = bs[i]!;
      if (a.key !== b.key) throw new DataError(`${a.at} and ${b.at}: different prompts on the same line`);
      return item(a, b, `line:${i + 1}`);
    });
  }
  const index = (answers: Answer[]) => {
    const byKey = new Map<string, Answer>();
    for (const x of answers) {
      const seen = byKey.get(x.key);
      if (seen) throw new DataError(`${x.at}: the same prompt as ${seen.at}; give each prompt once (or a "sample" index), or match --by line`);
      byKey.set(x.key, x);
    }
    return byKey;
  };
  const [ia, ib] = [index(as), index(bs)];
  for (const b of bs) if (!ia.has(b.key)) throw new DataError(`${b.at}: a prompt ${aPath} does not answer`);
  return as.map((a) => {
    const b = ib.get(a.key);
    if (!b) throw new DataError(`${a.at}: a prompt ${bPath} does not answer`);
    return item(a, b, a.key);
  });
}

/** A's answer wins when its reward is higher by at least `tieMargin` (a tie below it, and at equal rewards). */
export function verdict(rewardA: number, rewardB: number, tieMargin: number): Verdict {
  const d = rewardA - rewardB;
  if (d === 0 || Math.abs(d) < tieMargin) return 'tie';
  return d > 0 ? 'a' : 'b';
}

export interface RewardJudgeOptions {
  checkpoint: string;
  device: string;
  batch: number;
  maxLen: number;
  systemPrompt: string;
  tieMargin: number;
}

/** Each item judged by a reward model: both answers scored as the reply to the prompt (loom rm score's scoring). */
export async function judgeWithRewardModel(items: readonly CompareItem[], o: RewardJudgeOptions): Promise<Judgement[]> {
  const chats = items.flatMap((item) => [item.a, item.b].map((content): Doc => ({ messages: [...item.prompt, { role: 'assistant', content }] })));
  async function* input() {
    yield* chats;
  }
  // scoreRewards writes `reward` into the records it scores and drops what it cannot
  for await (const _ of scoreRewards(input(), { checkpoint: o.checkpoint, device: o.device, batch: o.batch, maxLen: o.maxLen, systemPrompt: o.systemPrompt }));
  return items.map((item, i) => {
    const [ra, rb] = [chats[2 * i]!.reward, chats[2 * i + 1]!.reward];
    if (typeof ra !== 'number' || typeof rb !== 'number') throw new DataError(`${typeof ra !== 'number' ? item.at.a : item.at.b}: the judge cannot score this answer: with its prompt it is longer than --max-len ${o.maxLen} tokens`);
    return { key: item.key, winner: verdict(ra, rb, o.tieMargin), judge: o.checkpoint, reward_a: ra, reward_b: rb };
  });
}

/** The 95% Wilson score interval of a proportion `x` of `n` (good at small n and near 0 or 1, unlike the normal one). */
export function wilson(x: number, n: number, z = 1.959964): [number, number] {
  if (n === 0) return [0, 1];
  const p = x / n, z2 = (z * z) / n;
  const centre = (p + z2 / 2) / (1 + z2);
  const half = (z / (1 + z2)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

export interface Share {
  count: number;
  share: number;
  ci95: [number, number];
}

export interface CompareReport {
  a: string;
  b: string;
  judge: string;
  judged: number;
  wins: Share;
  ties: Share;
  losses: Share;
}

/** Wins, ties and losses of A against B over the judged items, each with its share and Wilson interval. */
export function tally(judgements: readonly Judgement[], names: { a: string; b: string; judge: string }): CompareReport {
  const n = judgements.length;
  const share = (v: Verdict): Share => {
    const count = judgements.filter((j) => j.winner === v).length;
    return { count, share: n > 0 ? count / n : NaN, ci95: wilson(count, n) };
  };
  return { ...names, judged: n, wins: share('a'), ties: share('tie'), losses: share('b') };
}

/** The report as a table: counts, shares and intervals of A's wins, the ties and A's losses. */
export function formatReport(r: CompareReport): string {
  const pct = (x: number) => (Number.isNaN(x) ? '-' : `${(100 * x).toFixed(1)}%`);
  const rows = [
    ['', 'count', 'share', '95% CI (Wilson)'],
    ...([['A wins', r.wins], ['tie', r.ties], ['B wins', r.losses]] as const).map(([label, s]) => [label, String(s.count), pct(s.share), `${pct(s.ci95[0])} – ${pct(s.ci95[1])}`]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const lines = rows.map((row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
  return [`A: ${r.a}`, `B: ${r.b}`, `judge: ${r.judge}, ${r.judged} prompts`, ...lines].join('\n') + '\n';
}

/**
 * Human judgements, appended to a JSONL file as they are made (each flushed to disk), so a rerun
 * skips what was judged; a torn last line (a crash mid-write) is cut off.
 */
export class JudgementLog {
  private constructor(
    readonly path: string,
    private readonly fd: number,
    readonly judged: Map<string, Judgement>,
  ) {}

  static open(path: string): JudgementLog {
    const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
    const complete = text.lastIndexOf('\n') + 1;
    const judged = new Map<string, Judgement>();
    text
      .slice(0, complete)
      .split('\n')
      .forEach((line, i) => {
        if (line.trim() === '') return;
        try {
          const j = JSON.parse(line) as Judgement;
          judged.set(j.key, j);
        } catch (err) {
          throw new DataError(`not a judgement: ${(err as Error).message}`, { file: path, line: i + 1 });
        }
      });
    const fd = openSync(path, 'a');
    if (complete < text.length) ftruncateSync(fd, Buffer.byteLength(text.slice(0, complete)));
    return new JudgementLog(path, fd, judged);
  }

  append(j: Judgement): void {
    writeSync(this.fd, JSON.stringify(j) + '\n');
    fsyncSync(this.fd);
    this.judged.set(j.key, j);
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Which model's answer is shown first: a hash of the seed and the item, so the judge cannot tell, and a rerun shows the same. */
export function shownOrder(key: string, seed: number): 'ab' | 'ba' {
  return createHash('sha256').update(`${seed}\0${key}`).digest()[0]! & 1 ? 'ba' : 'ab';
}

/** A human judging session over the items the log has not judged yet. */
export class CompareSession {
  index = 0;
  readonly queue: CompareItem[];
  readonly counts = { judged: 0, skipped: 0 };

  constructor(
    items: readonly CompareItem[],
    readonly log: JudgementLog,
    readonly seed: number,
  ) {
    this.queue = items.filter((item) => !log.judged.has(item.key));
  }

  get current(): CompareItem | undefined {
    return this.queue[this.index];
  }

  get done(): boolean {
    return this.index >= this.queue.length;
  }

  /** The current item's answers in the order shown, as first and second. */
  shown(item: CompareItem): { order: 'ab' | 'ba'; first: string; second: string } {
    const order = shownOrder(item.key, this.seed);
    return order === 'ab' ? { order, first: item.a, second: item.b } : { order, first: item.b, second: item.a };
  }

  /** The judge's choice of the shown answers ('first', 'second' or a tie), recorded as A's or B's win. */
  choose(choice: 'first' | 'second' | 'tie'): void {
    const item = this.current;
    if (!item) return;
    const { order } = this.shown(item);
    const winner: Verdict = choice === 'tie' ? 'tie' : (choice === 'first') === (order === 'ab') ? 'a' : 'b';
    this.log.append({ key: item.key, winner, judge: 'human', shown: order });
    this.counts.judged += 1;
    this.index += 1;
  }

  skip(): void {
    if (this.done) return;
    this.counts.skipped += 1;
    this.index += 1;
  }
}
