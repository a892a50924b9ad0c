import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import fs, { appendFileSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { readCheckpoint } from '../../../lib/model/checkpoint.js';
import { SINGLE } from '../../../lib/train/distributed.js';
import { epochPermutation } from '../../../lib/train/data.js';
import { pretrain, type MetricsRecord, type PretrainOptions, type PretrainSettings, type StepRecord } from '../../../lib/train/pretrain.js';
import { readTrainerState } from '../../../lib/train/state.js';
import { learningRate } from '../../../lib/train/schedule.js';
import { tempDir } from '../../helpers/cli.js';
import { patternStream, writeShards } from './shards.js';

const VOCAB = 48;

function options(data: string, out: string, extra: Partial<PretrainOptions> = {}): PretrainOptions & { records: MetricsRecord[] } {
  const records: MetricsRecord[] = [];
  return {
    data,
    out,
    preset: 'tiny',
    overrides: { seqLen: 16, hiddenSize: 32, intermediateSize: 88, heads: 4, kvHeads: 2 },
    device: 'cpu',
    batch: 4,
    batchTokens: 128,
    steps: 8,
    lr: 1e-2,
    warmup: 2,
    minLrRatio: 0.1,
    weightDecay: 0.1,
    clip: 1,
    evalEvery: 0,
    evalWindows: 8,
    saveEvery: 0,
    seed: 7,
    resume: false,
    skipNonfinite: false,
    world: SINGLE,
    onRecord: (r) => records.push(r),
    log: () => {},
    run: { batch: 4, 'batch-tokens': 128, lr: 1e-2, warmup: 2, 'min-lr-ratio': 0.1, 'weight-decay': 0.1, clip: 1 },
    records,
    ...extra,
  };
}

const steps = (records: MetricsRecord[]) => records.filter((r): r is StepRecord => 'loss' in r);

function shards(dir: string, vocabName?: string): string {
  const data = join(dir, vocabName ?? 'shards');
  writeShards(data, { vocab: VOCAB, seqLen: 16, train: patternStream(VOCAB, 6000, 1), val: patternStream(VOCAB, 1200, 2), vocabName });
  return data;
}

test('schedule: linear warmup, cosine to 10% of the peak', () => {
  const s = { peak: 1, warmup: 10, total: 110, minRatio: 0.1 };
  assert.equal(learningRate(s, 0), 0.1);
  assert.equal(learningRate(s, 9), 1);
  assert.equal(learningRate(s, 10), 1);
  assert.ok(Math.abs(learningRate(s, 60) - 0.55) < 1e-12);
  assert.ok(Math.abs(learningRate(s, 110) - 0.1) < 1e-12);
  assert.ok(Math.abs(learningRate(s, 500) - 0.1) < 1e-12);
  const p = epochPermutation(100, 3, 0);
  assert.deepEqual([...p].sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i));
  assert.notDeepEqual(p, epochPermutation(100, 3, 1), 'each epoch is reshuffled');
  assert.deepEqual(p, epochPermutation(100, 3, 0), 'seeded');
});

test('loss falls on a memorization task and validation follows', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const o = options(shards(dir), join(dir, 'ckpt'), { steps: 40, evalEvery: 20 });
  const result = await pretrain(o);
  const s = steps(o.records);
  assert.equal(s.length, 40);
  const first = s[0]!.loss, last = s.at(-1)!.loss;
  assert.ok(first > Math.log(VOCAB) - 0.3, `starts near ln(${VOCAB}): ${first}`);
  assert.ok(last < 1.6, `memorized the sentences: loss ${first} → ${last}`);
  const val = o.records.filter((r) => 'val_loss' in r) as { step: number; val_loss: number }[];
  assert.deepEqual(val.map((v) => v.step), [0, 20, 40]);
  assert.ok(val[2]!.val_loss < val[0]!.val_loss - 2, `validation loss falls: ${val.map((v) => v.val_loss)}`);
  assert.equal(result.steps, 40);
  assert.ok(s.every((r) => r.tokens_per_s > 0 && r.grad_norm > 0 && r.mfu === null));
  const state = readTrainerState<number, PretrainSettings>(join(dir, 'ckpt'))!;
  assert.equal(state.step, 40);
  assert.equal(state.position, 40 * 8, '2 micro-batches of 4 windows per step');
});

test('--resume after an interruption reproduces the uninterrupted run bit for bit (SIGINT checkpoint)', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const data = shards(dir);
  const full = options(data, join(dir, 'full'), { steps: 8, overrides: { seqLen: 16, hiddenSize: 32, intermediateSize: 88, heads: 4, kvHeads: 2, dropout: 0.1 } });
  await pretrain(full);

  const logs: string[] = [];
  const part = options(data, join(dir, 'part'), { steps: 8, overrides: full.overrides, log: (l) => logs.push(l) });
  const onRecord = part.onRecord;
  part.onRecord = (r) => {
    onRecord(r);
    if ('loss' in r && r.step === 3) process.kill(process.pid, 'SIGINT');
  };
  const interrupted = await pretrain(part);
  assert.equal(interrupted.interrupted, 'SIGINT');
  assert.equal(interrupted.steps, 3);
  assert.ok(logs.some((l) => /SIGINT/.test(l)) && logs.some((l) => /checkpoint .* at step 3 \(SIGINT\)/.test(l)), logs.join('\n'));
  assert.equal(readTrainerState<number, PretrainSettings>(join(dir, 'part'))!.step, 3);

  const resumed = options(data, join(dir, 'part'), { resume: true, steps: undefined, lr: 123, batch: 99 });
  await pretrain(resumed);
  const curve = [...steps(part.records), ...steps(resumed.records)].map((r) => [r.step, r.loss, r.grad_norm, r.lr]);
  assert.deepEqual(curve, steps(full.records).map((r) => [r.step, r.loss, r.grad_norm, r.lr]));
  const bytes = (d: string) => readFileSync(join(dir, d, 'model.safetensors'));
  assert.ok(bytes('part').equals(bytes('full')), 'final weights are bit-identical');
  assert.ok(readFileSync(join(dir, 'part', 'optimizer.safetensors')).equals(readFileSync(join(dir, 'full', 'optimizer.safetensors'))), 'optimizer state too');
});

test('shards with another vocabulary are refused, naming both hashes', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const o = options(shards(dir), join(dir, 'ckpt'), { steps: 1 });
  await pretrain(o);
  const other = shards(dir, 'another-vocab');
  await assert.rejects(pretrain(options(other, join(dir, 'next'), { init: join(dir, 'ckpt'), steps: 1 })), /shards use vocabulary [0-9a-f]{12}… \(another-vocab\), the model expects [0-9a-f]{12}…; retokenize/);
});

test('--init continues from a checkpoint at a longer context with a fresh optimizer', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const data = shards(dir);
  const base = options(data, join(dir, 'base'), { steps: 20 });
  await pretrain(base);
  const long = options(data, join(dir, 'long'), { init: join(dir, 'base'), steps: 3, overrides: { seqLen: 32 }, batchTokens: 128 });
  await pretrain(long);
  const s = steps(long.records);
  assert.ok(s[0]!.loss < steps(base.records)[0]!.loss - 1, `starts from the trained weights: ${s[0]!.loss}`);
  const ckpt = readCheckpoint(join(dir, 'long'));
  assert.equal(ckpt.config.seqLen, 32);
  const state = readTrainerState<number, PretrainSettings>(ckpt.dir)!;
  assert.equal(state.step, 3);
  assert.equal(state.settings.seqLen, 32);
});

test('a non-finite loss stops the run with a clear message, or is skipped with --skip-nonfinite', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const data = shards(dir);
  await assert.rejects(pretrain(options(data, join(dir, 'a'), { lr: 1e30, steps: 6, warmup: 1 })), /non-finite (loss|gradient norm) .* at step \d+; the weights before this step are saved/);
  const o = options(data, join(dir, 'b'), { lr: 1e30, steps: 6, warmup: 1, skipNonfinite: true });
  await pretrain(o);
  assert.ok(steps(o.records).some((r) => r.skipped), 'skipped steps are marked');
});

test('a crash mid-save leaves a checkpoint --resume reads: a half-written DIR.tmp is ignored, DIR.old is used when DIR is missing', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const data = shards(dir);
  const overrides = { seqLen: 16, hiddenSize: 32, intermediateSize: 88, heads: 4, kvHeads: 2, dropout: 0.1 };
  const full = options(data, join(dir, 'full'), { steps: 8, overrides });
  await pretrain(full);

  // A run that dies after step 5; its last checkpoint is step 3's.
  const out = join(dir, 'part');
  const part = options(data, out, { steps: 8, saveEvery: 3, overrides });
  const onRecord = part.onRecord;
  part.onRecord = (r) => {
    onRecord(r);
    if ('loss' in r && r.step === 5) throw new Error('crash');
  };
  await assert.rejects(pretrain(part), /crash/);
  // ... and suppose it died inside the next save, between its two renames: DIR.old holds step 3,
  // DIR.tmp a half-written checkpoint.
  renameSync(out, `${out}.old`);
  mkdirSync(`${out}.tmp`);
  writeFileSync(join(`${out}.tmp`, 'config.json'), readFileSync(join(`${out}.old`, 'config.json')));
  writeFileSync(join(`${out}.tmp`, 'model.safetensors'), readFileSync(join(`${out}.old`, 'model.safetensors')).subarray(0, 100));

  // A resumed run that dies again at its first save, just before the new checkpoint is renamed into
  // place: DIR.old, the only complete checkpoint, must still be there.
  const realRename = fs.renameSync;
  const rename = mock.method(fs, 'renameSync', (from: string, to: string) => {
    if (to === out) throw new Error('crash before the rename');
    realRename(from, to);
  });
  syncBuiltinESMExports();
  try {
    await assert.rejects(pretrain(options(data, out, { resume: true, steps: undefined, saveEvery: 3 })), /crash before the rename/);
  } finally {
    rename.mock.restore();
    syncBuiltinESMExports();
  }
  assert.equal(readTrainerState<number, PretrainSettings>(out)!.step, 3);

  const logs: string[] = [];
  const resumed = options(data, out, { resume: true, steps: undefined, saveEvery: 3, log: (l) => logs.push(l) });
  await pretrain(resumed);
  assert.ok(logs.some((l) => l.includes(`resumed from ${out}.old`)), logs.join('\n'));
  assert.deepEqual(steps(resumed.records).map((r) => r.step), [4, 5, 6, 7, 8]);
  const curve = (records: MetricsRecord[]) => steps(records).map((r) => [r.step, r.loss, r.grad_norm, r.lr]);
  assert.deepEqual(curve(resumed.records), curve(full.records).slice(3));
  for (const file of ['model.safetensors', 'optimizer.safetensors']) assert.ok(readFileSync(join(out, file)).equals(readFileSync(join(dir, 'full', file))), file);
  assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('part')), ['part'], 'no DIR.tmp or DIR.old is left');
});

test('files kept in --out beside the checkpoint (a metrics file) survive every checkpoint swap', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const out = join(dir, 'ckpt');
  mkdirSync(join(out, 'notes'), { recursive: true });
  writeFileSync(join(out, 'notes', 'README'), 'why this run\n');
  const metrics = join(out, 'metrics.jsonl');
  const o = options(shards(dir), out, { steps: 6, saveEvery: 2, onRecord: (r) => appendFileSync(metrics, JSON.stringify(r) + '\n') });
  await pretrain(o);
  assert.deepEqual(readFileSync(metrics, 'utf8').trim().split('\n').map((l) => JSON.parse(l).step), [1, 2, 3, 4, 5, 6]);
  assert.equal(readFileSync(join(out, 'notes', 'README'), 'utf8'), 'why this run\n');
  assert.equal(readTrainerState<number, PretrainSettings>(out)!.step, 6);
});
