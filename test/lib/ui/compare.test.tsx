import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { render } from 'ink-testing-library';
import { CompareSession, JudgementLog, shownOrder, type CompareItem } from '../../../lib/eval/compare.js';
import { CompareApp } from '../../../lib/ui/compare.js';
import { parseJsonl, tempDir } from '../../helpers/cli.js';
import { press, type } from '../../helpers/ink.js';

const ITEMS: CompareItem[] = ['first', 'second', 'third'].map((name, i) => ({
  key: `k${i}`,
  prompt: [{ role: 'user', content: `Question ${name}?` }],
  a: `model A says ${name}\x1b[2J`,
  b: `model B says ${name}`,
  at: { a: `a.jsonl:${i + 1}`, b: `b.jsonl:${i + 1}` },
}));

test('compare view: the prompt and two unnamed answers in the drawn order; a, b, t and s judge or skip, each judgement in the log at once', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const state = join(dir, 'state.jsonl');
  const log = JudgementLog.open(state);
  t.after(() => log.close());
  const seed = 4;
  const session = new CompareSession(ITEMS, log, seed);
  const app = render(<CompareApp session={session} />);
  const until = (keys: string[], expected: RegExp) => press(app, keys, expected);

  const order = ITEMS.map((item) => shownOrder(item.key, seed));
  const screen = await until([], /^loom compare 1\/3 · judged 0 · skipped 0/);
  const [first, second] = order[0] === 'ab' ? ['A', 'B'] : ['B', 'A'];
  assert.match(screen, new RegExp(`user: Question first\\?\\n── answer a ─+\\nmodel ${first} says first.*\\n── answer b ─+\\nmodel ${second} says first`));
  assert.match(screen, /\\x1b\[2J/, 'control characters show as escapes');
  assert.match(screen, /a answer a is better · b answer b · t tie · s skip/);

  await until(['b'], /^loom compare 2\/3 · judged 1/);
  await until(['s'], /^loom compare 3\/3 · judged 1 · skipped 1/);
  await until(['t'], /All 3 prompts are judged or skipped/);
  const written = parseJsonl(readFileSync(state, 'utf8')).map((j) => [j.key, j.winner]);
  // 'b' picked the second answer shown: model B's when A's was shown first
  assert.deepEqual(written, [['k0', order[0] === 'ab' ? 'b' : 'a'], ['k2', 'tie']]);
  await type(app, 'q');
  app.unmount();
});
