// `loom dedup signatures|buckets|clusters|filter`: the same dedup as the streaming mode, split into
// steps that many processes or machines can run, communicating through files in a work directory:
//
//   DIR/dedup.json                       parameters and the resolved input files (all steps check them)
//   DIR/signatures/task-I-of-N/SPACE.bin  per task and key space (exact, url, band-00…): records
//                                         [hash hi, hash lo, file, line]; docs.bin [file, line], ranks.bin
//   DIR/buckets/SPACE.edges               per key space: [member file, line, head file, line], head = the
//                                         space's first document with the same hash
//   DIR/clusters/part-J-of-M.edges|marks  optional parallel reduction of the edge files to a forest
//   DIR/clusters/assignments.bin          per duplicate-involved document: [file, line, root file, root line, size, kept | marks << 1]
//
// A document is named by (input file number, line), which orders exactly like the streaming input,
// so every choice (bucket heads, union-find roots, keep ties) is the streaming mode's. Input file f
// belongs to signatures/filter task f mod N. Every output is written atomically with a `.done`
// marker; a rerun skips what is done.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileSource, resolveInputs } from '../../io/inputs.js';
import { DataError, UsageError } from '../../errors.js';
import { locationOf } from '../../io/location.js';
import { readSource, type ReadOptions } from '../../io/read.js';
import type { Doc } from '../../io/types.js';
import { defineStage } from '../../stage.js';
import { hasText, NO_TEXT } from '../../text/no-text.js';
import { float64Column, uint32Column, type Column } from './columns.js';
import { applyDecision, clusterId, type DedupMode } from './decide.js';
import { resolveClusters } from './index.js';
import { EXACT_DUP, URL_DUP, dropReason, rankOf } from './keep.js';
import { validateParams, type DedupParams } from './options.js';
import { writeClusterReport } from './report.js';
import { BANDS_AT, EXACT_AT, HAS_EXACT, HAS_SHINGLES, HAS_URL, URL_AT, rowWidth } from './signature.js';
import { signatureConfig, signaturePool, signatureTasks } from './stream.js';
import { HashTable64 } from './table.js';
import { UnionFind } from './union-find.js';
import { isDone, markDone, readFloat64, readUint32, writeAtomic } from './files.js';

export interface Shard {
  index: number;
  count: number;
}

/** Parses `--shard i/N` (0-based i). */
export function parseShard(text: string | undefined): Shard {
  if (text === undefined) return { index: 0, count: 1 };
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || index >= count) throw new UsageError(`--shard: expected i/N with 0 <= i < N, got "${text}"`);
  return { index, count };
}

const taskName = (s: Shard) => `task-${String(s.index).padStart(5, '0')}-of-${String(s.count).padStart(5, '0')}`;

interface WorkConfig {
  format: 'loom.dedup/1';
  params: DedupParams;
  inputs: string[];
  tasks: number;
}

/** The key spaces a run hashes into: each is bucketed separately. */
export function keySpaces(p: DedupParams): string[] {
  const spaces = [];
  if (p.exact) spaces.push('exact');
  if (p.url) spaces.push('url');
  if (p.fuzzy) for (let b = 0; b < p.bands; b++) spaces.push(`band-${String(b).padStart(2, '0')}`);
  return spaces;
}

export function readWorkConfig(work: string): WorkConfig {
  const path = join(work, 'dedup.json');
  if (!existsSync(path)) throw new UsageError(`${work}: no dedup.json; run \`loom dedup signatures --work ${work}\` first`);
  return JSON.parse(readFileSync(path, 'utf8')) as WorkConfig;
}

/** Writes dedup.json, or checks that an existing one describes the same run. */
function claimWorkConfig(work: string, config: WorkConfig): void {
  const path = join(work, 'dedup.json');
  if (existsSync(path)) {
    const existing = JSON.stringify(readWorkConfig(work));
    if (existing !== JSON.stringify(config)) {
      throw new UsageError(`${path} belongs to another run (other parameters, inputs or task count); use another --work directory`);
    }
    return;
  }
  writeAtomic(path, JSON.stringify(config, null, 2) + '\n');
}

function requireDone(paths: string[], what: string): void {
  const missing = paths.filter((p) => !isDone(p));
  if (missing.length > 0) {
    throw new DataError(`${missing.length} ${what} not finished yet (first: ${missing[0]}); run them before this step`);
  }
}

export interface SignaturesOptions extends ReadOptions {
  work: string;
  shard: Shard;
  params: DedupParams;
  workers: number;
}

/** Step 1: hashes the input files of task i/N. Returns false when the task was already done. */
export async function runSignatures(specs: readonly string[], opts: SignaturesOptions): Promise<{ skipped: boolean; docs: number; bytes: number }> {
  validateParams(opts.params);
  const inputs = (await resolveInputs(specs)).map((s) => s.name);
  if (inputs.includes('<stdin>')) throw new UsageError('dedup signatures: the multi-stage mode reads files (filter rereads them); stdin works with plain `loom dedup`');
  const twice = inputs.find((name, f) => inputs.indexOf(name) !== f);
  if (twice) throw new UsageError(`dedup signatures: ${twice} is given twice; each input file must appear once`);
  claimWorkConfig(opts.work, { format: 'loom.dedup/1', params: opts.params, inputs, tasks: opts.shard.count });
  const dir = join(opts.work, 'signatures', taskName(opts.shard));
  if (isDone(dir)) return { skipped: true, docs: 0, bytes: 0 };
  const p = opts.params;
  const spaces = keySpaces(p);
  const records = new Map(spaces.map((s) => [s, uint32Column()]));
  const docs = uint32Column();
  const ranks = p.keep === 'first' ? undefined : float64Column();
  const config = signatureConfig(p);
  const width = rowWidth(config);
  const fileNumber = new Map(inputs.map((name, f) => [name, f]));
  const mine = inputs.filter((_, f) => f % opts.shard.count === opts.shard.index);
  let bytes = 0;
  // Records without text are not hashed: the filter step drops them (NO_TEXT), as plain dedup does.
  async function* taskDocs(): AsyncGenerator<Doc> {
    for (const name of mine) for await (const doc of readSource(fileSource(name), opts)) if (hasText(doc)) yield doc;
  }
  const meta: { files: number[]; lines: number[]; ranks: number[] }[] = [];
  const onDoc = (doc: Doc): [number, number, number] => {
    const loc = locationOf(doc)!;
    bytes += typeof doc.text === 'string' ? Buffer.byteLength(doc.text) : 0;
    return [fileNumber.get(loc.file)!, loc.line, rankOf(doc, p.keep)];
  };
  const pool = signaturePool(config, opts.workers);
  const push = (space: string, hi: number, lo: number, file: number, line: number) => {
    const column = records.get(space)!;
    column.push(hi);
    column.push(lo);
    column.push(file);
    column.push(line);
  };
  try {
    for await (const result of pool.map(signatureTasks(taskDocs(), onDoc, meta))) {
      if (!result.ok) throw new Error(`dedup signatures: hashing failed: ${result.error}`);
      const side = meta.shift()!;
      const rows = result.value;
      for (let k = 0; k < side.files.length; k++) {
        const at = k * width;
        const file = side.files[k]!;
        const line = side.lines[k]!;
        docs.push(file);
        docs.push(line);
        ranks?.push(side.ranks[k]!);
        const flags = rows[at]!;
        if (flags & HAS_EXACT) push('exact', rows[at + EXACT_AT]!, rows[at + EXACT_AT + 1]!, file, line);
        if (flags & HAS_URL) push('url', rows[at + URL_AT]!, rows[at + URL_AT + 1]!, file, line);
        if (flags & HAS_SHINGLES) {
          for (let b = 0; b < p.bands; b++) push(spaces[spaces.length - p.bands + b]!, rows[at + BANDS_AT + 2 * b]!, rows[at + BANDS_AT + 2 * b + 1]!, file, line);
        }
      }
    }
  } finally {
    await pool.close();
  }
  for (const [space, column] of records) writeAtomic(join(dir, `${space}.bin`), column.data.subarray(0, column.length));
  writeAtomic(join(dir, 'docs.bin'), docs.data.subarray(0, docs.length));
  if (ranks) writeAtomic(join(dir, 'ranks.bin'), ranks.data.subarray(0, ranks.length));
  markDone(dir);
  return { skipped: false, docs: docs.length / 2, bytes };
}

function signatureDirs(work: string, config: WorkConfig): string[] {
  return Array.from({ length: config.tasks }, (_, index) => join(work, 'signatures', taskName({ index, count: config.tasks })));
}

const keyBefore = (fa: number, la: number, fb: number, lb: number) => fa < fb || (fa === fb && la < lb);

/**
 * Step 2: for each key space of this task (space k belongs to task k mod N), the edges from every
 * document to the first document with the same hash. Memory: one space's records at a time.
 */
export function runBuckets(work: string, shard: Shard): { spaces: number; skipped: number; edges: number } {
  const config = readWorkConfig(work);
  const sigDirs = signatureDirs(work, config);
  requireDone(sigDirs, 'signature tasks');
  const spaces = keySpaces(config.params).filter((_, k) => k % shard.count === shard.index);
  let skipped = 0;
  let edgeCount = 0;
  for (const space of spaces) {
    const out = join(work, 'buckets', `${space}.edges`);
    if (isDone(out)) {
      skipped += 1;
      continue;
    }
    const parts = sigDirs.map((dir) => readUint32(join(dir, `${space}.bin`)));
    const records = new Uint32Array(parts.reduce((n, part) => n + part.length, 0));
    let offset = 0;
    for (const part of parts) {
      records.set(part, offset);
      offset += part.length;
    }
    const table = new HashTable64(Math.max(16, records.length / 4));
    for (let r = 0; r < records.length; r += 4) {
      const head = table.getOrInsert(records[r]!, records[r + 1]!, r);
      if (head >= 0 && keyBefore(records[r + 2]!, records[r + 3]!, records[head + 2]!, records[head + 3]!)) table.set(records[r]!, records[r + 1]!, r);
    }
    const edges = uint32Column();
    for (let r = 0; r < records.length; r += 4) {
      const head = table.get(records[r]!, records[r + 1]!);
      if (head === r) continue;
      edges.push(records[r + 2]!);
      edges.push(records[r + 3]!);
      edges.push(records[head + 2]!);
      edges.push(records[head + 3]!);
    }
    edgeCount += edges.length / 4;
    writeAtomic(out, edges.data.subarray(0, edges.length));
    markDone(out);
  }
  return { spaces: spaces.length, skipped, edges: edgeCount };
}

const spaceMark = (space: string) => (space === 'exact' ? EXACT_DUP : space === 'url' ? URL_DUP : 0);

/**
 * The duplicate graph over the documents that appear in some edge (never the whole corpus):
 * node keys sorted in input order, so union-find roots are the clusters' first documents.
 */
class SparseGraph {
  private readonly table = new HashTable64();
  readonly keys: Column<Float64Array> = float64Column();
  private sorted?: Float64Array;
  readonly uf = new UnionFind();
  marks = new Uint8Array(0);

  /** First pass: collects node keys. */
  collect(edges: Uint32Array): void {
    for (let e = 0; e < edges.length; e += 2) {
      if (this.table.getOrInsert(edges[e]!, edges[e + 1]!, 0) < 0) this.keys.push(edges[e]! * 2 ** 32 + edges[e + 1]!);
    }
  }

  /** Between the passes: numbers the nodes in input order. */
  number(): void {
    this.sorted = this.keys.data.subarray(0, this.keys.length).sort();
    for (let i = 0; i < this.sorted.length; i++) {
      this.table.set(Math.floor(this.sorted[i]! / 2 ** 32), this.sorted[i]! % 2 ** 32, i);
      this.uf.add();
    }
    this.marks = new Uint8Array(this.sorted.length);
  }

  node(file: number, line: number): number {
    return this.table.get(file, line);
  }

  /** Second pass: unions the edges; `mark` flags their members. */
  union(edges: Uint32Array, mark: number): void {
    for (let e = 0; e < edges.length; e += 4) {
      const member = this.node(edges[e]!, edges[e + 1]!);
      this.marks[member]! |= mark;
      this.uf.union(member, this.node(edges[e + 2]!, edges[e + 3]!));
    }
  }

  file(i: number): number {
    return Math.floor(this.sorted![i]! / 2 ** 32);
  }

  line(i: number): number {
    return this.sorted![i]! % 2 ** 32;
  }

  get size(): number {
    return this.uf.size;
  }
}

interface EdgeSource {
  edges: string;
  marks?: string;
  mark: number;
}

function buildGraph(sources: EdgeSource[]): SparseGraph {
  const graph = new SparseGraph();
  for (const s of sources) graph.collect(readUint32(s.edges));
  graph.number();
  for (const s of sources) {
    graph.union(readUint32(s.edges), s.mark);
    if (!s.marks) continue;
    const marks = readUint32(s.marks);
    for (let k = 0; k < marks.length; k += 3) graph.marks[graph.node(marks[k]!, marks[k + 1]!)]! |= marks[k + 2]!;
  }
  return graph;
}

const bucketEdges = (work: string, config: WorkConfig): EdgeSource[] =>
  keySpaces(config.params).map((space) => ({ edges: join(work, 'buckets', `${space}.edges`), mark: spaceMark(space) }));

/**
 * Step 3a (optional, parallel): task j of M reduces the edge files of key spaces k ≡ j (mod M) to a
 * forest (one edge per duplicate document, to its root) plus the members' marks, so the final
 * step unions at most M edges per document instead of one per band.
 */
export function runClusterPart(work: string, shard: Shard): { skipped: boolean; edges: number } {
  const config = readWorkConfig(work);
  const all = bucketEdges(work, config);
  requireDone(all.map((s) => s.edges), 'bucket spaces');
  const out = join(work, 'clusters', `part-${taskName(shard).slice(5)}`);
  if (isDone(out)) return { skipped: true, edges: 0 };
  const graph = buildGraph(all.filter((_, k) => k % shard.count === shard.index));
  const edges = uint32Column();
  const marks = uint32Column();
  for (let i = 0; i < graph.size; i++) {
    const r = graph.uf.find(i);
    if (r !== i) for (const v of [graph.file(i), graph.line(i), graph.file(r), graph.line(r)]) edges.push(v);
    if (graph.marks[i]) for (const v of [graph.file(i), graph.line(i), graph.marks[i]!]) marks.push(v);
  }
  writeAtomic(`${out}.edges`, edges.data.subarray(0, edges.length));
  writeAtomic(`${out}.marks`, marks.data.subarray(0, marks.length));
  markDone(out);
  return { skipped: false, edges: edges.length / 4 };
}

/**
 * Step 3: the final clusters. Reads the parts of the last complete `clusters --shard j/M` run if
 * there is one, else the bucket edge files directly. Memory is proportional to the documents that
 * have a duplicate, not to the corpus.
 */
export function runClusters(work: string, opts: { parts?: number; report?: string } = {}): { skipped: boolean; documents: number; clusters: number } {
  const config = readWorkConfig(work);
  const out = join(work, 'clusters', 'assignments.bin');
  if (isDone(out)) return { skipped: true, documents: 0, clusters: 0 };
  let sources: EdgeSource[];
  if (opts.parts) {
    sources = Array.from({ length: opts.parts }, (_, index) => {
      const base = join(work, 'clusters', `part-${taskName({ index, count: opts.parts! }).slice(5)}`);
      return { edges: `${base}.edges`, marks: `${base}.marks`, mark: 0 };
    });
    requireDone(sources.map((s) => s.edges.replace(/\.edges$/, '')), 'cluster parts');
  } else {
    sources = bucketEdges(work, config);
    requireDone(sources.map((s) => s.edges), 'bucket spaces');
  }
  const graph = buildGraph(sources);
  const rank = config.params.keep === 'first' ? undefined : new Float64Array(graph.size).fill(-Infinity);
  if (rank) {
    for (const dir of signatureDirs(work, config)) {
      const docs = readUint32(join(dir, 'docs.bin'));
      const ranks = readFloat64(join(dir, 'ranks.bin'));
      for (let d = 0; d < ranks.length; d++) {
        const node = graph.node(docs[2 * d]!, docs[2 * d + 1]!);
        if (node >= 0) rank[node] = ranks[d]!;
      }
    }
  }
  const { root, size, best } = resolveClusters(graph.uf, graph.marks, rank);
  const rows = new Uint32Array(graph.size * 6);
  let clusters = 0;
  for (let i = 0; i < graph.size; i++) {
    const r = root[i]!;
    if (r === i) clusters += 1;
    rows.set([graph.file(i), graph.line(i), graph.file(r), graph.line(r), size[r]!, (best[r] === i ? 1 : 0) | (graph.marks[i]! << 1)], i * 6);
  }
  if (opts.report) {
    const location = (i: number) => clusterId(config.inputs[graph.file(i)]!, graph.line(i));
    writeClusterReport(opts.report, { n: graph.size, root, size, best, marks: graph.marks, location });
  }
  writeAtomic(out, rows);
  markDone(out);
  return { skipped: false, documents: graph.size, clusters };
}

export interface FilterOptions {
  work: string;
  shard: Shard;
  mode: DedupMode;
}

/** The input files that task i/N of `signatures` and `filter` reads. */
export function shardInputs(work: string, shard: Shard): string[] {
  const config = readWorkConfig(work);
  if (shard.count !== config.tasks) {
    throw new UsageError(`dedup filter: --shard must split into ${config.tasks} tasks like signatures did, got ${shard.count}`);
  }
  return config.inputs.filter((_, f) => f % shard.count === shard.index);
}

/** Step 4: tags or drops the documents of task i/N by the final clusters (a stage over that task's files). */
export const dedupFilter = defineStage<FilterOptions>('dedup', { work: '', shard: { index: 0, count: 1 }, mode: 'drop' }, async function* (docs, opts, ctx) {
  const config = readWorkConfig(opts.work);
  const assignments = join(opts.work, 'clusters', 'assignments.bin');
  requireDone([assignments], 'cluster steps');
  const fileNumber = new Map(config.inputs.map((name, f) => [name, f]));
  const rows = readUint32(assignments);
  const table = new HashTable64();
  for (let r = 0; r < rows.length; r += 6) if (rows[r]! % opts.shard.count === opts.shard.index) table.getOrInsert(rows[r]!, rows[r + 1]!, r);
  for await (const doc of docs) {
    if (!hasText(doc)) {
      ctx.drop(doc, NO_TEXT);
      continue;
    }
    const loc = locationOf(doc);
    const file = loc ? fileNumber.get(loc.file) : undefined;
    if (loc === undefined || file === undefined) throw new DataError(`dedup filter: ${loc?.file ?? 'a document'} is not one of the inputs in ${opts.work}/dedup.json`);
    const r = table.get(file, loc.line);
    const decision =
      r < 0
        ? { cluster: clusterId(loc.file, loc.line), size: 1, kept: true, reason: '' }
        : {
            cluster: clusterId(config.inputs[rows[r + 2]!]!, rows[r + 3]!),
            size: rows[r + 4]!,
            kept: (rows[r + 5]! & 1) === 1,
            reason: dropReason(rows[r + 5]! >>> 1),
          };
    if (r >= 0 && decision.size > 1) ctx.count(decision.kept ? 'kept_from_clusters' : 'duplicates');
    const out = applyDecision(doc, decision, opts.mode, ctx);
    if (out) yield out;
  }
});
