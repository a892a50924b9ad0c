import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SINGLE } from '../../../lib/train/distributed.js';
import { evalLengths, evalPerplexity, LENGTH_SETTINGS, type EvalPplOptions } from '../../../lib/eval/perplexity.js';
import type { LongContextSwitches } from '../../../lib/model/config.js';
import { pretrain } from '../../../lib/train/pretrain.js';
import { parseJsonl, runLoom, tempDir } from '../../helpers/cli.js';
import { brownParagraphs } from '../tokenizer/helpers.js';

/** A tiny checkpoint trained for a few steps on the shards (the figures only need a model, not a good one). */
async function trainTiny(shards: string, ckpt: string, o: { seqLen: number; batch: number; steps: number; lr: number; seed: number }): Promise<void> {
  await pretrain({
    data: shards, out: ckpt, preset: 'tiny', overrides: { seqLen: o.seqLen, hiddenSize: 16, intermediateSize: 44, heads: 4, kvHeads: 2 },
    device: 'cpu', batch: o.batch, steps: o.steps, lr: o.lr, warmup: 1, minLrRatio: 0.1, weightDecay: 0.1, clip: 1, evalEvery: 0, evalWindows: 0,
    saveEvery: 0, seed: o.seed, resume: false, skipNonfinite: false, world: SINGLE, onRecord: () => {}, log: () => {}, run: {},
  });
}

// Documents of many lengths (shorter and longer than a window), one in NFD, one empty.
function documents(): { id: string; text: string }[] {
  const paragraphs = brownParagraphs(2).slice(0, 14);
  const texts = paragraphs.map((p, i) => p.slice(0, 40 + ((i * 97) % 400)));
  texts.splice(3, 0, 'Cafe\u0301 cre\u0300me, nai\u0308ve.', '', 'Short.');
  return texts.map((text, i) => ({ id: `d${i}`, text }));
}

// With and without NFC: the JSONL text is encoded as the checkpoint's shards were (config.json's loom.nfc).
for (const nfc of [true, false])
test(`eval ppl streams JSONL: the same windows, loss and tokens as the shards loom tokenize${nfc ? '' : ' --no-nfc'} writes from it`, async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const docs = join(dir, 'docs.jsonl');
  writeFileSync(docs, documents().map((d) => JSON.stringify(d)).join('\n') + '\n');
  const shards = join(dir, 'shards');
  // Input order, no val split: the train split is exactly the packed document stream.
  const tok = await runLoom(['tokenize', docs, '--vocab', 'cl100k', '--seq-len', '16', '--val-fraction', '0', '--shuffle-buffer', '1', '--out', shards, ...(nfc ? [] : ['--no-nfc'])]);
  assert.equal(tok.code, 0, tok.stderr);
  const manifest = JSON.parse(readFileSync(join(shards, 'manifest.json'), 'utf8'));

  const ckpt = join(dir, 'ckpt');
  await trainTiny(shards, ckpt, { seqLen: 16, batch: 4, steps: 3, lr: 1e-2, seed: 3 });

  assert.equal(JSON.parse(readFileSync(join(ckpt, 'config.json'), 'utf8')).loom.nfc, nfc);
  const run = (data: string[], extra: Partial<EvalPplOptions> = {}) => evalPerplexity({ checkpoint: ckpt, data, split: 'train', device: 'cpu', batch: 4, ...extra });
  const figures = ({ loss, ppl, tokens, windows }: { loss: number; ppl: number; tokens: number; windows: number }) => ({ loss, ppl, tokens, windows });

  const streamed = await run([docs]);
  const sharded = await run([shards]);
  assert.equal(sharded.windows, manifest.splits.train.windows);
  assert.ok(streamed.windows > 20, `enough windows to span several batches: ${streamed.windows}`);
  assert.deepEqual(figures(streamed), figures(sharded), 'bit-identical loss over the same windows');
  assert.ok(Number.isFinite(streamed.loss) && streamed.loss > 0);

  // Another window length (not the shards' own) and a window limit that is not a batch multiple.
  assert.deepEqual(figures(await run([docs], { seqLen: 24, maxWindows: 7 })), figures(await run([shards], { seqLen: 24, maxWindows: 7 })));
  // Fewer windows than --batch: the model's batch shrinks to the input in both paths.
  const few = await run([docs], { maxWindows: 3, batch: 8 });
  assert.deepEqual(figures(few), figures(await run([shards], { maxWindows: 3, batch: 8 })));
  assert.equal(few.windows, 3);
  assert.equal(few.tokens, 48);
});

test('eval ppl on JSONL: a bad line is reported as file:line, and --max-windows stops reading before it', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const shards = join(dir, 'shards');
  const good = join(dir, 'good.jsonl');
  writeFileSync(good, documents().map((d) => JSON.stringify(d)).join('\n') + '\n');
  const tok = await runLoom(['tokenize', good, '--vocab', 'cl100k', '--seq-len', '16', '--val-fraction', '0', '--out', shards]);
  assert.equal(tok.code, 0, tok.stderr);
  const ckpt = join(dir, 'ckpt');
  await trainTiny(shards, ckpt, { seqLen: 16, batch: 2, steps: 1, lr: 1e-3, seed: 1 });
  const bad = join(dir, 'bad.jsonl');
  writeFileSync(bad, `${JSON.stringify({ text: 'one more document' })}\n{"text": "broken\n`);
  const run = (data: string[], maxWindows?: number) => evalPerplexity({ checkpoint: ckpt, data, split: 'val', device: 'cpu', batch: 4, maxWindows });
  await assert.rejects(run([bad]), (err: Error) => err.message.startsWith(`${bad}:2: `), 'the broken line, by file and line');
  // Long enough that read-ahead (a read chunk, a few batches of documents) stops well before its end.
  const long = join(dir, 'long.jsonl');
  writeFileSync(long, Array.from({ length: 60 }, documents).flat().map((d) => JSON.stringify(d)).join('\n') + '\n');
  const early = await run([long, bad], 5);
  assert.equal(early.windows, 5, 'the windows before the bad line are evaluated without reading it');

  const notext = join(dir, 'notext.jsonl');
  writeFileSync(notext, `${JSON.stringify({ text: 'fine' })}\n${JSON.stringify({ body: 'no text field' })}\n`);
  await assert.rejects(evalPerplexity({ checkpoint: ckpt, data: [notext], split: 'val', device: 'cpu', batch: 4 }), /notext\.jsonl:2: .*"text"/);
  const empty = join(dir, 'empty.jsonl');
  writeFileSync(empty, `${JSON.stringify({ text: 'too short' })}\n`);
  await assert.rejects(evalPerplexity({ checkpoint: ckpt, data: [empty], split: 'val', device: 'cpu', batch: 4 }), /empty\.jsonl: no window of 17 tokens to evaluate/);
  await assert.rejects(evalPerplexity({ checkpoint: ckpt, data: [good], split: 'val', device: 'cpu', batch: 4, maxWindows: 0 }), /--max-windows must be at least 1/);
});

test('eval ppl --lengths: perplexity against length on documents long enough for each, plain and with each long-context means', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const paragraphs = brownParagraphs(1);
  const longDoc = { id: 'long', text: paragraphs.slice(0, 12).join('\n\n') };
  const docs = join(dir, 'docs.jsonl'), single = join(dir, 'single.jsonl');
  writeFileSync(docs, [longDoc, { id: 'short', text: 'A short one.' }].map((d) => JSON.stringify(d)).join('\n') + '\n');
  writeFileSync(single, JSON.stringify(longDoc) + '\n');
  const shards = join(dir, 'shards');
  const tok = await runLoom(['tokenize', docs, '--vocab', 'cl100k', '--seq-len', '8', '--val-fraction', '0', '--out', shards]);
  assert.equal(tok.code, 0, tok.stderr);
  const ckpt = join(dir, 'ckpt');
  await trainTiny(shards, ckpt, { seqLen: 8, batch: 4, steps: 4, lr: 1e-2, seed: 2 });
  const results = await evalLengths({ checkpoint: ckpt, data: [docs], device: 'cpu', batch: 3, lengths: [8, 32, 64] });
  assert.deepEqual(results.map((r) => `${r.length} ${r.setting}`), [8, 32, 64].flatMap((L) => LENGTH_SETTINGS.map((s) => `${L} ${s.name}`)));
  const at = (L: number, setting: string) => results.find((r) => r.length === L && r.setting === setting)!;
  for (const L of [8, 32, 64]) {
    // the short document fills no window: the long one alone gives the figures eval ppl measures at
    // that length, plain with the means switched off, and all three by default
    const alone = (longContext?: LongContextSwitches) => evalPerplexity({ checkpoint: ckpt, data: [single], split: 'val', device: 'cpu', batch: 3, seqLen: L, longContext });
    const plain = await alone({ dynamicNtk: false, logn: false, windows: false }), all = await alone();
    assert.equal(at(L, 'plain').windows, plain.windows);
    assert.equal(at(L, 'plain').tokens, plain.windows * L);
    assert.ok(Math.abs(at(L, 'plain').loss - plain.loss) < 1e-5, `plain at ${L}: ${at(L, 'plain').loss} vs ${plain.loss}`);
    assert.ok(Math.abs(at(L, 'all three').loss - all.loss) < 1e-5, `all three at ${L}: ${at(L, 'all three').loss} vs ${all.loss}`);
  }
  // within the training length nothing changes; beyond it, each means does
  for (const s of LENGTH_SETTINGS) assert.equal(at(8, s.name).loss, at(8, 'plain').loss, s.name);
  for (const s of LENGTH_SETTINGS.slice(1)) assert.notEqual(at(64, s.name).loss, at(64, 'plain').loss, `${s.name} at 64`);
  await assert.rejects(evalLengths({ checkpoint: ckpt, data: [docs], device: 'cpu', batch: 3, lengths: [100_000] }), /no document has the 100001 tokens a window of length 100000 needs/);

  // the command: a table, or JSON lines; --windows sets the windows rows
  const table = await runLoom(['eval', 'ppl', ckpt, docs, '--lengths', '8,32', '--device', 'cpu']);
  assert.equal(table.code, 0, table.stderr);
  const lines = table.stdout.trim().split('\n');
  assert.match(lines[0]!, /^perplexity\s+8 \(trained\)\s+32$/);
  assert.deepEqual(lines.slice(1, -1).map((l) => l.split(/\s{2,}/)[0]), LENGTH_SETTINGS.map((s) => s.name));
  assert.equal(lines.at(-1)!.split(/\s+/).slice(1).map(Number).join(), [8, 32].map((L) => at(L, 'plain').tokens).join());
  const json = await runLoom(['eval', 'ppl', ckpt, docs, '--lengths', '32', '--windows', '4,0', '--json', '--device', 'cpu']);
  assert.equal(json.code, 0, json.stderr);
  const records = parseJsonl(json.stdout);
  assert.deepEqual(records.map((r) => r.setting), LENGTH_SETTINGS.map((s) => s.name));
  assert.equal(records[0]!.ppl, Number(at(32, 'plain').ppl.toFixed(4)));
  assert.notEqual(records[3]!.ppl, Number(at(32, 'windows').ppl.toFixed(4)), 'windows of 4 in the lower layer, not the default');
  const noLogn = await runLoom(['eval', 'ppl', ckpt, single, '--seq-len', '32', '--no-logn', '--device', 'cpu', '--batch', '3']);
  assert.equal(noLogn.code, 0, noLogn.stderr);
  const without = await evalPerplexity({ checkpoint: ckpt, data: [single], split: 'val', device: 'cpu', batch: 3, seqLen: 32, longContext: { logn: false } });
  assert.equal(JSON.parse(noLogn.stdout).ppl, Number(without.ppl.toFixed(4)), 'the switches of eval ppl beyond the training length');
  assert.notEqual(without.loss, at(32, 'all three').loss);
  assert.equal((await runLoom(['eval', 'ppl', ckpt, docs, '--lengths', '8', '--no-logn'])).code, 2);
  const usage = await runLoom(['eval', 'ppl', ckpt, docs, '--lengths', '8', '--seq-len', '8']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--seq-len and --lengths exclude each other/);
  assert.equal((await runLoom(['eval', 'ppl', ckpt, docs, '--lengths', '8,x'])).code, 2);
});
