// npm run bench:quick: a short run of every stage's benchmark (io, extract, dedup, tokenize, kernels
// on the CPU), a few minutes in all, to see a regression before it lands. Each figure is a ratio
// against its peer in the same run (dedup's peer is a published figure: datatrove cannot run
// here), printed beside the ratio the docs record. One JSON line per stage on stdout, a table on
// stderr; exit 1 when a figure misses its target.
//   node --import tsx bench/quick.ts [--only tokenize,io]
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SHARED_PRETRAIN = join(ROOT, '..', 'shared', 'data', 'pretrain');

/** A figure: this run's ratio, the one the docs record (a value or a range), and a floor if it has one. */
interface Figure {
  figure: string;
  ratio: number | null;
  docs: number | [number, number];
  /** Where the docs' figure is, for updating it, and the commit it was measured at. */
  source: string;
  commit: string;
  target?: number;
}

interface Stage {
  name: string;
  args: string[];
  figures(lines: Record<string, any>[]): Figure[];
  /** Why the figures are not comparable with the docs', or why the stage was skipped. */
  note?: () => string | undefined;
  skip?: () => string | undefined;
}

const ioDir = join(tmpdir(), 'loom-bench-quick-io');
const distAge = () => {
  const dist = join(ROOT, 'dist', 'bin', 'loom.js');
  if (!existsSync(dist)) return 'dist/ is not built: run npm run build';
  const newest = newestMtime(join(ROOT, 'lib'));
  return newest > statSync(dist).mtimeMs ? 'dist/ is older than lib/: these are the figures of the last npm run build' : undefined;
};

const STAGES: Stage[] = [
  {
    name: 'io',
    args: ['bench/io.ts', '--mb', '50', '--dir', ioDir],
    skip: () => (existsSync(join(ROOT, 'dist', 'bin', 'loom.js')) ? undefined : 'dist/ is not built: run npm run build'),
    note: distAge,
    figures: ([r]) => [
      { figure: 'cat: JSONL read → parse → write vs cat', ratio: round(r!.plain.loom_mb_s / r!.plain.peer_mb_s, 3), docs: 0.019, source: 'docs/conventions.md "Throughput"', commit: '7252072' },
      { figure: 'cat gzip → gzip shards vs gzip -dc | gzip', ratio: r!.gzip.ratio, docs: 1.21, source: 'docs/conventions.md "Throughput"', commit: '7252072' },
      { figure: 'a stage adding a field vs JSON.stringify of the record', ratio: r!.add_field.ratio, docs: 1.32, source: 'docs/conventions.md "Throughput"', commit: '7252072' },
    ],
  },
  {
    name: 'extract',
    args: ['bench/extract.ts', '--pages', '100'],
    note: () => 'generated WARC of 100 pages (the docs: 1,000)',
    figures: ([r]) => [
      { figure: 'extract pages/s per core vs Readability.js + jsdom, generated WARC', ratio: r!.generated.ratio, docs: 5.7, source: 'docs/extract.md "Speed"', commit: '356dd0d' },
      { figure: 'extract pages/s per core vs Readability.js + jsdom, Common Crawl sample', ratio: r!.common_crawl.ratio ?? null, docs: 3.1, source: 'docs/extract.md "Speed"', commit: '356dd0d' },
    ],
  },
  {
    name: 'dedup',
    args: ['bench/dedup.ts', '--docs', '3000', '--full-docs', '20000', '--state-docs', '20000'],
    note: () => "peer: datatrove's published 0.8 MB/s per task, not a run here",
    figures: ([r]) => [
      { figure: 'dedup signatures MB/s per core vs datatrove, English', ratio: r!.ratio_vs_peer, docs: 9.63, source: 'docs/dedup.md "Performance"', commit: 'b31f203' },
      { figure: 'dedup signatures MB/s per core vs datatrove, Chinese', ratio: round(r!.signature_mb_s_per_core.zh / r!.peer.mb_s_per_task), docs: 17.25, source: 'docs/dedup.md "Performance"', commit: 'b31f203' },
    ],
  },
  {
    name: 'tokenize',
    args: ['bench/tokenize.ts', '--quick'],
    note: () => (existsSync(SHARED_PRETRAIN) ? undefined : `${SHARED_PRETRAIN} absent: Brown corpus and jieba words instead of the docs' texts`),
    figures: ([r]) => [
      { figure: 'tokenize encode vs tiktoken, English', ratio: r!.encode_en.ratio, docs: 1.97, source: 'docs/tokenize.md "Performance"', commit: '44e2eb6' },
      { figure: 'tokenize encode vs tiktoken, Chinese', ratio: r!.encode_zh.ratio, docs: 0.94, source: 'docs/tokenize.md "Performance"', commit: '44e2eb6' },
      { figure: 'tokenize --out (shard writer) vs tiktoken encode', ratio: r!.shard_writer.ratio, docs: 0.9, source: 'docs/tokenize.md "Performance"', commit: '44e2eb6', target: 0.8 },
    ],
  },
  {
    name: 'kernels',
    args: ['bench/kernels.ts', '--device', 'cpu', '--quick'],
    figures: (lines) =>
      lines.map((line) => ({ figure: `kernels cpu ${line.op} ${line.shape} vs ${line.peer ?? 'numpy'}`, ratio: line.ratio ?? null, docs: [0.89, 0.96] as [number, number], source: 'docs/kernels.md "Measured"', commit: 'd89d0df' })),
  },
];

const { values } = parseArgs({ options: { only: { type: 'string' } } });
const only = values.only?.split(',');
const rows: (Figure & { stage: string })[] = [];
let missed = 0;
for (const stage of STAGES.filter((s) => selected(s.name))) {
  const skipped = stage.skip?.();
  if (skipped) {
    emit({ bench: 'quick', stage: stage.name, skipped });
    continue;
  }
  const started = performance.now();
  const run = spawnSync(process.execPath, ['--import', 'tsx', ...stage.args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 26 });
  const seconds = round((performance.now() - started) / 1000, 1);
  const lines = run.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>);
  if (run.status !== 0 || lines.length === 0) {
    missed += 1;
    emit({ bench: 'quick', stage: stage.name, seconds, error: `exit ${run.status}: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}` });
    continue;
  }
  const figures = stage.figures(lines);
  for (const f of figures) {
    rows.push({ stage: stage.name, ...f });
    if (f.target !== undefined && !(f.ratio !== null && f.ratio >= f.target)) missed += 1;
  }
  emit({ bench: 'quick', stage: stage.name, seconds, note: stage.note?.(), figures });
}
if (selected('io')) rmSync(ioDir, { recursive: true, force: true });
printTable(rows);
process.exit(missed > 0 ? 1 : 0);

function selected(name: string): boolean {
  return !only || only.includes(name);
}

function emit(record: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(record) + '\n');
}

function printTable(figures: (Figure & { stage: string })[]): void {
  const docs = (d: Figure['docs']) => (Array.isArray(d) ? `${d[0]}–${d[1]}` : String(d));
  const verdict = (f: Figure) => {
    if (f.ratio === null) return 'skipped';
    if (f.target !== undefined) return f.ratio >= f.target ? `ok (target ≥ ${f.target})` : `MISSED (target ≥ ${f.target})`;
    const low = Array.isArray(f.docs) ? f.docs[0] : f.docs;
    return f.ratio < low * 0.8 ? 'below the docs by > 20%' : '';
  };
  const table = [['figure', 'this run', 'docs', 'at', ''], ...figures.map((f) => [f.figure, f.ratio === null ? '—' : `${f.ratio}×`, `${docs(f.docs)}×`, f.commit, verdict(f)])];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  for (const row of table) process.stderr.write(row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd() + '\n');
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function round(x: number, digits = 2): number {
  return Math.round(x * 10 ** digits) / 10 ** digits;
}
