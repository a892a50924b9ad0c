import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PPO_PRESETS, ppoLearningRates } from '../../../lib/train/ppo-presets.js';

test("ppo's lrs: the report's for a 4096-wide model, scaled to the policy's width where no flag gives them", () => {
  const at64 = ppoLearningRates({}, PPO_PRESETS.qwen, 64);
  assert.ok(Math.abs(at64.policyLr - 6.4e-5) < 1e-12 && Math.abs(at64.criticLr - 3.2e-4) < 1e-12);
  assert.match(at64.why, /policy lr 6\.40e-5 \(1e-6 × 4096\/64\), critic lr 3\.20e-4 \(5e-6 × 4096\/64\)/);
  assert.equal(ppoLearningRates({}, PPO_PRESETS.qwen, 4096).policyLr, 1e-6);
  const flagged = ppoLearningRates({ policyLr: 2e-5 }, PPO_PRESETS.qwen, 768);
  assert.equal(flagged.policyLr, 2e-5);
  assert.ok(Math.abs(flagged.criticLr - (5e-6 * 4096) / 768) < 1e-15);
  assert.match(flagged.why, /policy lr 2\.00e-5 \(flag\)/);
});
