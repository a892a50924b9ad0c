import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StepRecord } from '../../../lib/train/metrics.js';
import { dashboardFields, lossChart, startDashboard } from '../../../lib/ui/dashboard.js';
import { VirtualTerminal } from './virtual-terminal.js';

test('loss chart: one column per step (or per bucket of steps), scaled from the lowest to the highest loss', () => {
  const rows = lossChart([4, 3, 2, 1], 10, 2);
  assert.deepEqual(rows, ['█▃  ', '██▆▁'], '16 levels over 2 rows: 4, 3, 2, 1 → 16, 11, 6, 1 eighths');
  const wide = lossChart(Array.from({ length: 1000 }, (_, i) => 10 - i / 100), 50, 4);
  assert.equal(wide.length, 4);
  assert.ok(wide.every((r) => [...r].length === 50), 'buckets fit the width');
  assert.equal(wide[3]![49], '▁', 'the last bucket is the lowest');
  assert.deepEqual(lossChart([NaN], 10), []);
});

const step = (n: number): StepRecord => ({ step: n, loss: 8 - n / 10, lr: 3e-4, grad_norm: 0.731, tokens: n * 8192, tokens_per_s: 174_424, mfu: 0.2533 });

test('the dashboard shows step 38/400 with a percentage and an ETA, fits 80 columns, and keeps log lines above it', async () => {
  const tty = new VirtualTerminal(80);
  const ui = await startDashboard({ totalSteps: 400, terminal: tty.stream(), sharing: [], intervalMs: 1 });
  ui.log('pretrain: 125m preset, 318M parameters on cuda:0');
  for (let n = 1; n <= 38; n++) {
    ui.record(step(n));
    if (n % 10 === 0) ui.log(`pretrain: checkpoint ckpt/base/step-${n}`);
    await sleep(2);
  }
  ui.record({ step: 38, val_loss: 4.1, val_ppl: 60.3, val_tokens: 8192 });
  await sleep(5);
  await ui.stop();
  const screen = tty.lines();
  assert.equal(tty.wraps, 0, 'no row ran past the right edge');
  assert.deepEqual(screen.slice(0, 4), [
    'pretrain: 125m preset, 318M parameters on cuda:0',
    'pretrain: checkpoint ckpt/base/step-10',
    'pretrain: checkpoint ckpt/base/step-20',
    'pretrain: checkpoint ckpt/base/step-30',
  ]);
  assert.match(screen[4]!, /^step 38\/400 · 9\.5% · ETA \S+ · loss 4\.2000 · val 4\.1000 · 174\.4k tok\/s/, 'the last frame stays after stop');
  assert.equal(screen.length, 5 + 8, 'one figures line and an 8-row chart, no stale frames');
});

test('without a total the dashboard shows the step alone', () => {
  const fields = dashboardFields({ steps: [step(3)], val: [] }).map((f) => f.text);
  assert.deepEqual(fields.slice(0, 2), ['step 3', 'loss 7.7000']);
});
