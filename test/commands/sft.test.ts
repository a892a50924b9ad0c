import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseJsonl, runLoom, tempDir } from '../helpers/cli.js';
import { chatRecords, tinyChatBase, writeJsonl } from '../helpers/chat-base.js';

const RUN = ['--device', 'cpu', '--batch', '2', '--batch-rows', '4', '--max-len', '128', '--lr', '3e-3', '--warmup', '1'];

test('loom sft: chat records in three formats fine-tune a checkpoint; a record that is no chat stops the run with file:line, or goes to --rejects', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const base = await tinyChatBase(dir);
  const chats = writeJsonl(join(dir, 'chats.jsonl'), [...chatRecords(40), { note: 'not a chat' }]);
  const out = join(dir, 'sft');

  const strict = await runLoom(['sft', '--init', base, '--data', chats, '--out', out, '--steps', '2', ...RUN]);
  assert.equal(strict.code, 1);
  assert.match(strict.stderr, /chats\.jsonl:41: not a chat record/);

  const r = await runLoom(['sft', '--init', base, '--data', chats, '--out', out, '--steps', '8', '--eval-every', '4', '--on-error', 'skip', '--rejects', join(dir, 'rejects.jsonl'), '--sample-prompt', 'Repeat: the jury said', ...RUN]);
  assert.equal(r.code, 0, r.stderr);
  const records = parseJsonl(r.stdout);
  const steps = records.filter((x) => 'loss' in x);
  assert.equal(steps.length, 8);
  const val = records.filter((x) => 'val_loss' in x) as { val_loss: number; samples: { prompt: string; answer: string }[] }[];
  assert.equal(val.length, 3);
  for (const v of val) assert.deepEqual(v.samples.map((s) => [s.prompt, typeof s.answer]), [['Repeat: the jury said', 'string']], 'an answer at every evaluation');
  assert.match(r.stderr, /sft: sample: "Repeat: the jury said" → /);
  assert.ok(val[2]!.val_loss < val[0]!.val_loss, `validation loss falls: ${val.map((v) => v.val_loss)}`);
  assert.match(r.stderr, /sft: done, step 8, .* 1 dropped/);
  const rejects = parseJsonl(readFileSync(join(dir, 'rejects.jsonl'), 'utf8'));
  assert.deepEqual(rejects.map((x) => [x.line, x.stage]), [[41, 'sft']]);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.deepEqual(config.architectures, ['Qwen2ForCausalLM']);
  for (const f of ['tokenizer.json', 'optimizer.safetensors', 'trainer_state.json']) assert.ok(existsSync(join(out, f)), f);

  // --resume continues the same run: the same settings, two more steps
  const resumed = await runLoom(['sft', '--data', chats, '--out', out, '--resume', '--steps', '10', '--device', 'cpu', '--on-error', 'skip', '--eval-every', '0']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.deepEqual(parseJsonl(resumed.stdout).map((x) => x.step), [9, 10]);
});

test('loom sft: usage errors before any work', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const chats = writeJsonl(join(dir, 'chats.jsonl'), chatRecords(3));
  const noInit = await runLoom(['sft', '--data', chats, '--out', join(dir, 'out')]);
  assert.equal(noInit.code, 2);
  assert.match(noInit.stderr, /--init CKPT/);
  const both = await runLoom(['sft', '--init', dir, '--data', chats, '--out', join(dir, 'out'), '--steps', '2', '--epochs', '1']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--steps or --epochs, not both/);
});

test('loom sft: the preset scales itself to a tiny model and a small data set; the values are logged and kept in trainer_state.json', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const base = await tinyChatBase(dir);
  const chats = writeJsonl(join(dir, 'chats.jsonl'), chatRecords(40));
  const out = join(dir, 'sft');
  const r = await runLoom(['sft', '--init', base, '--data', chats, '--out', out, '--device', 'cpu', '--batch', '2', '--max-len', '64', '--eval-every', '0']);
  assert.equal(r.code, 0, r.stderr);
  const rows = Number(/sft: preset qwen at hidden size 64 on (\d+) examples/.exec(r.stderr)?.[1]);
  assert.ok(rows > 2 && rows < 64, r.stderr);
  // lr 2e-6 × 4096/64; the batch is one micro-step (under 32 steps a pass otherwise); 3 passes; warmup 35.75% of them
  const steps = Math.ceil((3 * rows) / 2);
  assert.match(r.stderr, new RegExp(`lr 1\\.28e-4 \\(2e-6 × 4096/64\\), 2 a step .*, ${steps} steps \\(3 epochs; .*\\), warmup ${Math.round(0.3575 * steps)} \\(35\\.75% of the run\\)`));
  const state = JSON.parse(readFileSync(join(out, 'trainer_state.json'), 'utf8'));
  assert.deepEqual([state.settings.lr, state.settings.batchRows, state.settings.steps, state.settings.warmup], [1.28e-4, 2, steps, Math.round(0.3575 * steps)]);
  assert.equal(parseJsonl(r.stdout).filter((x) => 'loss' in x).length, steps);
});
