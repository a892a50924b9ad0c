import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseJsonl, runLoom, tempDir } from '../helpers/cli.js';
import { chatRecords, preferenceRecords, tinyChatBase, writeJsonl } from '../helpers/chat-base.js';

test('loom rm: a score head on a checkpoint learns preference pairs; Qwen2ForSequenceClassification; rm score adds rewards', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const base = await tinyChatBase(dir);
  const prefs = writeJsonl(join(dir, 'prefs.jsonl'), preferenceRecords(48));
  const out = join(dir, 'rm');
  const r = await runLoom(['rm', '--init', base, '--data', prefs, '--out', out, '--device', 'cpu', '--epochs', '3', '--batch', '4', '--batch-pairs', '4', '--max-len', '64', '--lr', '3e-3', '--eval-every', '10', '--val-fraction', '0.2']);
  assert.equal(r.code, 0, r.stderr);
  const records = parseJsonl(r.stdout);
  const val = records.filter((x) => 'val_accuracy' in x) as { val_loss: number; val_accuracy: number; val_pairs: number }[];
  assert.ok(val.length >= 2);
  assert.ok(val.at(-1)!.val_loss < val[0]!.val_loss, `held-out loss falls: ${val.map((v) => v.val_loss)}`);
  assert.match(r.stderr, /rm: done, .* held-out accuracy/);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.deepEqual(config.architectures, ['Qwen2ForSequenceClassification']);
  assert.equal(config.num_labels, 1);

  const input = writeJsonl(join(dir, 'answers.jsonl'), [...chatRecords(2), preferenceRecords(1)[0]!, { other: true }]);
  const scored = await runLoom(['rm', 'score', out, input, '--device', 'cpu', '--on-error', 'skip']);
  assert.equal(scored.code, 0, scored.stderr);
  const rows = parseJsonl(scored.stdout);
  assert.equal(rows.length, 3, 'the record that is neither is dropped');
  assert.ok(rows.slice(0, 2).every((x) => typeof x.reward === 'number'));
  assert.ok(typeof rows[2]!.reward_chosen === 'number' && typeof rows[2]!.reward_rejected === 'number');
  assert.match(scored.stderr, /1 dropped/);
});
