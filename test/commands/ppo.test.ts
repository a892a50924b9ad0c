// `loom ppo`'s command line: the models it needs, the run length, --resume's rules and flag values
// are usage errors (exit 2) before any model loads. A run end to end is
// test/lib/train/ppo.test.ts; the quickstart (`npm start`) runs the command itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runLoom } from '../helpers/cli.js';

test('loom ppo: usage errors name what is missing or wrong, exit 2', async () => {
  const cases: [string[], RegExp][] = [
    [['ppo', '--prompts', 'p.jsonl', '--out', 'o', '--steps', '1'], /--policy CKPT and the reward model with --reward CKPT/],
    [['ppo', '--policy', 'a', '--reward', 'b', '--prompts', 'p.jsonl', '--out', 'o'], /--steps N/],
    [['ppo', '--policy', 'a', '--prompts', 'p.jsonl', '--out', 'o', '--resume'], /leave out --policy/],
    [['ppo', '--policy', 'a', '--reward', 'b', '--prompts', 'p.jsonl', '--out', 'o', '--steps', '1', '--top-p', '0'], /--top-p/],
  ];
  for (const [args, message] of cases) {
    const r = await runLoom(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});
