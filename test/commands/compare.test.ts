import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { shownOrder } from '../../lib/eval/compare.js';
import { parseJsonl, runLoom, tempDir } from '../helpers/cli.js';
import { preferenceRecords, tinyChatBase, writeJsonl } from '../helpers/chat-base.js';

/** Answers as loom generate --json writes them: the prompt record with its completion. */
function answers(model: 'a' | 'b'): object[] {
  return [
    { prompt: 'What is 2 plus 3?', completion: model === 'a' ? '5' : 'I do not know.', finish_reason: 'stop' },
    { messages: [{ role: 'user', content: 'Say hello.' }], completion: model === 'a' ? 'Hello!' : 'Hello there, friend.', finish_reason: 'stop' },
    { prompt: 'What is 4 plus 4?', completion: model === 'a' ? '8' : '9', finish_reason: 'stop' },
  ];
}

test('loom compare --judge RM: each answer scored as loom rm score scores it, wins/ties/losses with Wilson intervals; ties by margin; --judge human reports from its --state', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const base = await tinyChatBase(dir);
  const rm = join(dir, 'rm');
  const trained = await runLoom(['rm', '--init', base, '--data', writeJsonl(join(dir, 'prefs.jsonl'), preferenceRecords(8)), '--out', rm, '--device', 'cpu', '--steps', '1', '--batch', '4', '--batch-pairs', '4', '--max-len', '64', '--eval-every', '0', '--quiet']);
  assert.equal(trained.code, 0, trained.stderr);
  const a = writeJsonl(join(dir, 'a.jsonl'), answers('a'));
  const b = writeJsonl(join(dir, 'b.jsonl'), answers('b').reverse());

  const items = join(dir, 'items.jsonl');
  const r = await runLoom(['compare', a, b, '--judge', rm, '--device', 'cpu', '--json', '--out', items]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  const judged = parseJsonl(readFileSync(items, 'utf8')) as { winner: string; reward_a: number; reward_b: number; a_at: string; b_at: string }[];
  assert.deepEqual(judged.map((j) => [j.a_at.replace(dir, ''), j.b_at.replace(dir, '')]), [['/a.jsonl:1', '/b.jsonl:3'], ['/a.jsonl:2', '/b.jsonl:2'], ['/a.jsonl:3', '/b.jsonl:1']]);
  // the judge's rewards are loom rm score's for the same conversations
  const chats = answers('a').concat(answers('b')).map((x) => {
    const rec = x as { prompt?: string; messages?: object[]; completion: string };
    return { messages: [...(rec.messages ?? [{ role: 'user', content: rec.prompt }]), { role: 'assistant', content: rec.completion }] };
  });
  const scored = await runLoom(['rm', 'score', rm, writeJsonl(join(dir, 'chats.jsonl'), chats), '--device', 'cpu']);
  assert.equal(scored.code, 0, scored.stderr);
  const rewards = parseJsonl(scored.stdout).map((x) => x.reward as number);
  judged.forEach((j, i) => {
    assert.ok(Math.abs(j.reward_a - rewards[i]!) < 1e-5 && Math.abs(j.reward_b - rewards[3 + i]!) < 1e-5, `item ${i}: ${j.reward_a}, ${j.reward_b} vs ${rewards[i]}, ${rewards[3 + i]}`);
    assert.equal(j.winner, j.reward_a > j.reward_b ? 'a' : j.reward_a < j.reward_b ? 'b' : 'tie');
  });
  const wins = judged.filter((j) => j.winner === 'a').length;
  assert.equal(report.judged, 3);
  assert.equal(report.wins.count, wins);
  assert.equal(report.wins.count + report.ties.count + report.losses.count, 3);

  const same = await runLoom(['compare', a, a, '--judge', rm, '--device', 'cpu', '--json']);
  assert.equal(JSON.parse(same.stdout).ties.count, 3, 'the same answers tie');
  const margin = await runLoom(['compare', a, b, '--judge', rm, '--device', 'cpu', '--tie-margin', '1e6']);
  assert.equal(margin.code, 0, margin.stderr);
  assert.match(margin.stdout, /judge: .*rm, 3 prompts\n {8}count +share +95% CI \(Wilson\)\nA wins +0 +0\.0% +0\.0% – 56\.1%\ntie +3 +100\.0% +43\.9% – 100\.0%\nB wins +0/);

  // human judging resumes from its state: judged items are not asked again
  const state = join(dir, 'state.jsonl');
  const keys = ['"What is 2 plus 3?"', '[{"role":"user","content":"Say hello."}]'];
  writeFileSync(state, keys.map((key, i) => JSON.stringify({ key, winner: i === 0 ? 'a' : 'tie', judge: 'human', shown: shownOrder(key, 0) }) + '\n').join(''));
  const pending = await runLoom(['compare', a, b, '--judge', 'human', '--state', state]);
  assert.equal(pending.code, 2, 'one prompt is left, and judging it needs a terminal');
  assert.match(pending.stderr, /--judge human is interactive/);
  writeFileSync(state, JSON.stringify({ key: '"What is 4 plus 4?"', winner: 'b', judge: 'human', shown: 'ab' }) + '\n', { flag: 'a' });
  const done = await runLoom(['compare', a, b, '--judge', 'human', '--state', state, '--json']);
  assert.equal(done.code, 0, done.stderr);
  const human = JSON.parse(done.stdout);
  assert.deepEqual([human.wins.count, human.ties.count, human.losses.count, human.judge], [1, 1, 1, 'human']);
});

test('loom compare: usage errors before any work', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const a = writeJsonl(join(dir, 'a.jsonl'), answers('a'));
  const noState = await runLoom(['compare', a, a, '--judge', 'human']);
  assert.equal(noState.code, 2);
  assert.match(noState.stderr, /--state FILE/);
  const over = await runLoom(['compare', a, a, '--judge', 'human', '--state', a]);
  assert.equal(over.code, 2);
  const mismatch = await runLoom(['compare', a, writeJsonl(join(dir, 'b.jsonl'), answers('a').slice(1)), '--judge', 'human', '--state', join(dir, 's.jsonl')]);
  assert.equal(mismatch.code, 1);
  assert.match(mismatch.stderr, /a\.jsonl:1: a prompt .*b\.jsonl does not answer/);
});
