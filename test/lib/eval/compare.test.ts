// loom compare's parts: the Wilson interval on known counts, verdicts and ties, matching two
// answer files (refusals with file:line), the report, and human judging that resumes from its log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CompareSession, formatReport, JudgementLog, pairAnswers, shownOrder, tally, verdict, wilson, type CompareItem, type Judgement } from '../../../lib/eval/compare.js';
import { parseJsonl, tempDir } from '../../helpers/cli.js';
import { writeJsonl } from '../../helpers/chat-base.js';

const close = (got: [number, number], want: [number, number]) => assert.ok(Math.abs(got[0] - want[0]) < 5e-5 && Math.abs(got[1] - want[1]) < 5e-5, `${got} vs ${want}`);

test('Wilson 95% interval: the published values for 10/50, 50/100, 0/10 and 10/10', () => {
  close(wilson(10, 50), [0.1124, 0.3304]);
  close(wilson(50, 100), [0.4038, 0.5962]);
  close(wilson(0, 10), [0, 0.2775]);
  close(wilson(10, 10), [0.7225, 1]);
  assert.deepEqual(wilson(0, 0), [0, 1]);
});

test('verdict: the higher reward wins; equal rewards, or closer than the margin, tie', () => {
  assert.equal(verdict(1.2, 0.3, 0), 'a');
  assert.equal(verdict(-1, 0.3, 0), 'b');
  assert.equal(verdict(0.5, 0.5, 0), 'tie');
  assert.equal(verdict(1.5, 1.375, 0.25), 'tie');
  assert.equal(verdict(1.5, 1.25, 0.25), 'a', 'a difference of the margin itself is no tie');
});

test('answers are matched by prompt (and sample index) whatever their order, or by line; a mismatch is refused with file:line', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const chat = [{ role: 'user', content: 'Hi' }];
  const a = writeJsonl(join(dir, 'a.jsonl'), [
    { prompt: 'What is 2 plus 3?', completion: '5' },
    { messages: chat, sample: 0, completion: 'Hello' },
    { messages: chat, sample: 1, completion: 'Hey' },
  ]);
  const b = writeJsonl(join(dir, 'b.jsonl'), [
    { messages: chat, sample: 1, completion: 'Yo' },
    { prompt: 'What is 2 plus 3?', completion: '6' },
    { messages: chat, sample: 0, completion: 'Hi there' },
  ]);
  const items = await pairAnswers(a, b, 'prompt');
  assert.deepEqual(items.map((i) => [i.a, i.b, i.at.b.replace(dir, '')]), [['5', '6', '/b.jsonl:2'], ['Hello', 'Hi there', '/b.jsonl:3'], ['Hey', 'Yo', '/b.jsonl:1']]);
  assert.deepEqual(items[0]!.prompt, [{ role: 'user', content: 'What is 2 plus 3?' }], 'a raw prompt is judged as one user turn');

  await assert.rejects(pairAnswers(a, b, 'line'), /a\.jsonl:1 and .*b\.jsonl:1: different prompts on the same line/);
  const extra = writeJsonl(join(dir, 'extra.jsonl'), [{ prompt: 'What is 2 plus 3?', completion: '6' }, { prompt: 'Other', completion: 'x' }]);
  await assert.rejects(pairAnswers(a, extra, 'prompt'), /extra\.jsonl:2: a prompt .*a\.jsonl does not answer/);
  const twice = writeJsonl(join(dir, 'twice.jsonl'), [{ prompt: 'Q', completion: 'x' }, { prompt: 'Q', completion: 'y' }]);
  await assert.rejects(pairAnswers(twice, twice, 'prompt'), /twice\.jsonl:2: the same prompt as .*twice\.jsonl:1/);
  const bare = writeJsonl(join(dir, 'bare.jsonl'), [{ prompt: 'Q' }]);
  await assert.rejects(pairAnswers(bare, bare, 'line'), /bare\.jsonl:1: no "completion"/);
  assert.equal((await pairAnswers(twice, twice, 'line')).length, 2, 'by line, a prompt may repeat');
});

test('the report: counts, shares and Wilson intervals of wins, ties and losses', () => {
  const judgements: Judgement[] = [...Array(10).fill('a'), ...Array(5).fill('tie'), ...Array(35).fill('b')].map((winner, i) => ({ key: String(i), winner, judge: 'rm' }));
  const r = tally(judgements, { a: 'ppo.jsonl', b: 'sft.jsonl', judge: 'ckpt/rm' });
  assert.equal(r.judged, 50);
  assert.deepEqual([r.wins.count, r.ties.count, r.losses.count], [10, 5, 35]);
  assert.equal(r.wins.share, 0.2);
  close(r.wins.ci95, [0.1124, 0.3304]);
  assert.equal(
    formatReport(r),
    ['A: ppo.jsonl', 'B: sft.jsonl', 'judge: ckpt/rm, 50 prompts', '        count  share  95% CI (Wilson)', 'A wins     10  20.0%    11.2% – 33.0%', 'tie         5  10.0%     4.3% – 21.4%', 'B wins     35  70.0%    56.2% – 80.9%', ''].join('\n'),
  );
});

function items(n: number): CompareItem[] {
  return Array.from({ length: n }, (_, i) => ({ key: `k${i}`, prompt: [{ role: 'user', content: `q${i}` }], a: `A${i}`, b: `B${i}`, at: { a: `a:${i + 1}`, b: `b:${i + 1}` } }));
}

test('human judging: the shown order is drawn per item from the seed; a choice of the shown answers is recorded as A or B; a rerun skips what is judged', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const orders = items(40).map((item) => shownOrder(item.key, 1));
  assert.ok(orders.includes('ab') && orders.includes('ba'), 'both orders occur');
  assert.deepEqual(orders, items(40).map((item) => shownOrder(item.key, 1)), 'the same seed shows the same order');
  assert.notDeepEqual(orders, items(40).map((item) => shownOrder(item.key, 2)));

  const state = join(dir, 'state.jsonl');
  const log = JudgementLog.open(state);
  const session = new CompareSession(items(4), log, 1);
  const shown = session.shown(session.current!);
  assert.deepEqual([shown.first, shown.second], shown.order === 'ab' ? ['A0', 'B0'] : ['B0', 'A0']);
  session.choose('first');
  session.skip();
  session.choose('tie');
  log.close();
  const written = parseJsonl(readFileSync(state, 'utf8'));
  assert.deepEqual(written, [
    { key: 'k0', winner: shown.order === 'ab' ? 'a' : 'b', judge: 'human', shown: shown.order },
    { key: 'k2', winner: 'tie', judge: 'human', shown: shownOrder('k2', 1) },
  ]);

  appendFileSync(state, '{"key": "k3", "win'); // a crash mid-write
  const again = JudgementLog.open(state);
  t.after(() => again.close());
  const rerun = new CompareSession(items(4), again, 1);
  assert.deepEqual(rerun.queue.map((i) => i.key), ['k1', 'k3'], 'the skipped item and the one never judged');
  assert.ok(readFileSync(state, 'utf8').endsWith('}\n'), 'the torn line is cut off');
  writeFileSync(join(dir, 'bad.jsonl'), 'nope\n');
  assert.throws(() => JudgementLog.open(join(dir, 'bad.jsonl')), /bad\.jsonl:1: not a judgement/);
});
