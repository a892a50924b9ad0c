import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseJsonl, runLoom, tempDir } from '../helpers/cli.js';
import { preferenceRecords, tinyChatBase, writeJsonl } from '../helpers/chat-base.js';

/** An easy preference: the sum, never a refusal. */
function easyPairs(n: number): object[] {
  return preferenceRecords(n).map((p) => ({ ...p, rejected: 'I do not know.' }));
}

// constant lr (no warmup, the preset's floor ratio 1): a run stopped at step 3 and resumed sees the same schedule
const RUN = ['--device', 'cpu', '--batch', '4', '--batch-pairs', '4', '--max-len', '64', '--lr', '1e-3', '--warmup', '0', '--val-fraction', '0.25', '--seed', '3'];

test('loom dpo: a chat model learns preference pairs against its frozen start; held-out loss from log 2 down, margins up; --resume continues exactly', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const base = await tinyChatBase(dir);
  const prefs = writeJsonl(join(dir, 'prefs.jsonl'), easyPairs(40));
  const out = join(dir, 'dpo');

  const r = await runLoom(['dpo', '--init', base, '--data', prefs, '--out', out, '--steps', '6', '--eval-every', '3', ...RUN]);
  assert.equal(r.code, 0, r.stderr);
  const records = parseJsonl(r.stdout);
  const steps = records.filter((x) => 'loss' in x) as { step: number; loss: number; accuracy: number; margin: number; reward_chosen: number }[];
  assert.equal(steps.length, 6);
  assert.ok(Math.abs(steps[0]!.loss - Math.LN2) < 1e-4, `the first step's loss is log 2 (the policy is the reference): ${steps[0]!.loss}`);
  assert.equal(steps[0]!.margin, 0);
  const val = records.filter((x) => 'val_loss' in x) as { val_loss: number; val_accuracy: number; val_margin: number; val_reward_chosen: number; val_reward_rejected: number; val_pairs: number }[];
  assert.equal(val.length, 3);
  assert.ok(Math.abs(val[0]!.val_loss - Math.LN2) < 1e-4 && val[0]!.val_accuracy === 0, JSON.stringify(val[0]));
  const last = val.at(-1)!;
  assert.ok(last.val_loss < Math.LN2 - 0.01, `held-out loss falls: ${val.map((v) => v.val_loss)}`);
  assert.ok(last.val_margin > 0 && last.val_accuracy > 0.5, JSON.stringify(last));
  assert.ok(Math.abs(last.val_margin - (last.val_reward_chosen - last.val_reward_rejected)) < 1e-4);
  assert.match(r.stderr, /dpo: preset qwen at hidden size 64 on 29 examples: lr 1\.00e-3 \(flag\), 4 a step \(flag\), 6 steps \(flag\), warmup 0 \(flag\)/);
  assert.match(r.stderr, /dpo: reference log-probabilities of 40 pairs from /);
  assert.match(r.stderr, /dpo: done, step 6, .* held-out accuracy/);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.deepEqual(config.architectures, ['Qwen2ForCausalLM']);
  const state = JSON.parse(readFileSync(join(out, 'trainer_state.json'), 'utf8'));
  assert.equal(state.settings.beta, 0.1);
  assert.equal(state.settings.ref, resolve(base));

  // the same run stopped after 3 steps, then resumed: the same losses and the same weights
  const split = join(dir, 'split');
  const first = await runLoom(['dpo', '--init', base, '--data', prefs, '--out', split, '--steps', '3', '--eval-every', '0', ...RUN]);
  assert.equal(first.code, 0, first.stderr);
  const resumed = await runLoom(['dpo', '--data', prefs, '--out', split, '--resume', '--steps', '6', '--device', 'cpu', '--eval-every', '0']);
  assert.equal(resumed.code, 0, resumed.stderr);
  const again = parseJsonl(resumed.stdout) as { step: number; loss: number }[];
  assert.deepEqual(again.map((x) => [x.step, x.loss]), steps.slice(3).map((x) => [x.step, x.loss]));
  assert.ok(readFileSync(join(split, 'model.safetensors')).equals(readFileSync(join(out, 'model.safetensors'))), 'the resumed run ends on the same weights');
});

test('loom dpo: usage errors before any work', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const prefs = writeJsonl(join(dir, 'prefs.jsonl'), preferenceRecords(2));
  const noInit = await runLoom(['dpo', '--data', prefs, '--out', join(dir, 'o')]);
  assert.equal(noInit.code, 2);
  assert.match(noInit.stderr, /--init CKPT/);
  const both = await runLoom(['dpo', '--data', prefs, '--out', join(dir, 'o'), '--resume', '--ref', dir]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /mutually exclusive/);
  const beta = await runLoom(['dpo', '--data', prefs, '--out', join(dir, 'o'), '--init', dir, '--beta', '0']);
  assert.equal(beta.code, 2);
  assert.match(beta.stderr, /--beta/);
});
