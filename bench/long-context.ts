// Qwen's long-context table for a model loom trains: perplexity on held-out documents at 1×, 2×,
// 4× and 8× the training length, plain and with dynamic NTK, LogN, windows, and all three
// (docs/long-context.md). Every step is the loom CLI, as a user runs it:
//   documents of --doc-chars characters cut from --text at blank lines, the last --heldout of them held out;
//   a vocabulary: 256 byte tokens plus --merges learned by `loom tokenize train` (or --vocab NAME);
//   `loom tokenize` → `loom pretrain --preset P --seq-len S` → `loom eval ppl --lengths S,2S,4S,8S --json`.
// One JSON line: the setup, the perplexities by setting and length, and each setting's ratio to the
// plain perplexity at the training length.
//
//   node --import tsx bench/long-context.ts [--text ../shared/data/pretrain/tinyshakespeare.txt]
//     [--preset tiny --seq 128 --batch 16 --steps 2000 --lr 3e-3 --device cpu --merges 1500 --keep DIR]
//   on a GPU, larger: --preset 125m --seq 512 --vocab default --batch 32 --steps 3000 --lr 6e-4 --device cuda
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const LOOM = fileURLToPath(new URL('../bin/loom.ts', import.meta.url));
const DEFAULT_TEXT = fileURLToPath(new URL('../../shared/data/pretrain/tinyshakespeare.txt', import.meta.url));

function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] !== undefined ? process.argv[at + 1]! : fallback;
}

/** Runs `loom ARGS`; its stdout, or the command and its stderr on failure. */
function loom(args: string[]): string {
  const started = performance.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', LOOM, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`loom ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  process.stderr.write(`bench/long-context: loom ${args[0]}${args[1] && !args[1].startsWith('/') ? ` ${args[1]}` : ''} ${((performance.now() - started) / 1000).toFixed(1)}s\n`);
  return r.stdout;
}

/** The text cut into documents of at least `chars` characters, at blank lines. */
function documents(text: string, chars: number): string[] {
  const docs: string[] = [];
  let current = '';
  for (const paragraph of text.split(/\n\s*\n/)) {
    current = current ? `${current}\n\n${paragraph}` : paragraph;
    if (current.length >= chars) {
      docs.push(current);
      current = '';
    }
  }
  if (current) docs.push(current);
  return docs;
}

const jsonl = (docs: string[], from: number) => docs.map((text, i) => JSON.stringify({ id: `doc-${from + i}`, text })).join('\n') + '\n';

const textPath = flag('text', DEFAULT_TEXT);
const preset = flag('preset', 'tiny'), seq = Number(flag('seq', '128')), device = flag('device', 'cpu');
const steps = flag('steps', '2000'), batch = flag('batch', '16'), lr = flag('lr', '3e-3'), merges = flag('merges', '1500');
const keep = process.argv.includes('--keep') ? flag('keep', '') : '';
const dir = keep || mkdtempSync(join(tmpdir(), 'loom-long-context-'));
mkdirSync(dir, { recursive: true });
try {
  const docs = documents(readFileSync(textPath, 'utf8'), Number(flag('doc-chars', '16000')));
  const heldout = Number(flag('heldout', String(Math.max(1, Math.round(docs.length / 10)))));
  writeFileSync(join(dir, 'train.jsonl'), jsonl(docs.slice(0, -heldout), 0));
  writeFileSync(join(dir, 'heldout.jsonl'), jsonl(docs.slice(-heldout), docs.length - heldout));

  let vocab = flag('vocab', '');
  if (!vocab) {
    // a small vocabulary keeps a small model's embedding and head from dominating its parameters
    writeFileSync(join(dir, 'bytes.tiktoken'), Array.from({ length: 256 }, (_, b) => `${Buffer.from([b]).toString('base64')} ${b}`).join('\n') + '\n');
    vocab = join(dir, 'small.tiktoken');
    loom(['tokenize', 'train', join(dir, 'train.jsonl'), '--vocab', join(dir, 'bytes.tiktoken'), '--merges', merges, '-o', vocab, '-q']);
  }
  const shards = join(dir, 'shards'), ckpt = join(dir, 'ckpt');
  loom(['tokenize', join(dir, 'train.jsonl'), '--vocab', vocab, '--seq-len', String(seq), '--val-fraction', '0.05', '-o', shards, '-q']);
  const trainStarted = performance.now();
  loom(['pretrain', '--data', shards, '--preset', preset, '--seq-len', String(seq), '--batch', batch, '--steps', steps, '--lr', lr, '--warmup', flag('warmup', '100'), '--eval-every', '0', '--save-every', '0', '--device', device, '-o', ckpt, '-q', '--metrics', join(dir, 'metrics.jsonl')]);
  const trainSeconds = (performance.now() - trainStarted) / 1000;
  const lengths = [1, 2, 4, 8].map((x) => x * seq);
  const windows = process.argv.includes('--windows') ? ['--windows', flag('windows', '')] : [];
  const rows = loom(['eval', 'ppl', ckpt, join(dir, 'heldout.jsonl'), '--lengths', lengths.join(','), '--json', '--device', device, '--batch', flag('eval-batch', '8'), ...windows])
    .trim().split('\n').map((line) => JSON.parse(line) as { length: number; setting: string; ppl: number; tokens: number });
  const settings = [...new Set(rows.map((r) => r.setting))];
  const ppl = Object.fromEntries(settings.map((s) => [s, lengths.map((L) => rows.find((r) => r.length === L && r.setting === s)!.ppl)]));
  const reference = ppl.plain![0]!;
  const manifest = JSON.parse(readFileSync(join(shards, 'manifest.json'), 'utf8'));
  process.stdout.write(JSON.stringify({
    bench: 'long-context',
    data: { text: textPath, documents: docs.length, heldout_documents: heldout, train_tokens: manifest.splits.train.tokens, vocab: vocab.endsWith('small.tiktoken') ? `bytes+${merges} merges` : vocab, vocab_size: manifest.tokenizer.size },
    model: { preset, seq_len: seq, steps: Number(steps), batch: Number(batch), lr: Number(lr), device, train_seconds: Number(trainSeconds.toFixed(1)) },
    lengths,
    tokens: lengths.map((L) => rows.find((r) => r.length === L)!.tokens),
    ppl,
    ratio_to_trained: Object.fromEntries(settings.map((s) => [s, ppl[s]!.map((p) => Number((p / reference).toFixed(3)))])),
  }) + '\n');
} finally {
  if (!keep) rmSync(dir, { recursive: true, force: true });
}
