// `loom dedup` in one process: exact, URL and MinHash-LSH near-duplicate removal over a stream.
//
// Pass one hashes the documents (on worker threads, in batches, results in input order), adds
// each document's signature row to the DedupIndex and spills the document to a temporary file.
// Only then are the clusters final, so pass two replays the spill and decides, for every
// document, its cluster and whether it is kept. Memory holds signatures' band hashes and cluster
// state, never texts; see docs/dedup.md.
import { locationOf, setLocation } from '../../io/location.js';
import { readDocs } from '../../io/read.js';
import type { Doc } from '../../io/types.js';
import { UsageError } from '../../errors.js';
import { defineStage, type StageContext } from '../../stage.js';
import { hasText, NO_TEXT } from '../../text/no-text.js';
import { WorkerPool } from '../../util/worker-pool.js';
import { applyDecision, clusterId, type DedupMode } from './decide.js';
import { DedupIndex } from './index.js';
import { dropReason, rankOf } from './keep.js';
import { DEDUP_DEFAULTS, validateParams, type DedupParams } from './options.js';
import { writeClusterReport } from './report.js';
import { rowWidth, type SignatureConfig, type SignInput } from './signature.js';
import { Spill } from './spill.js';
import { verifyCandidates } from './verify.js';

export interface DedupOptions extends DedupParams {
  mode: DedupMode;
  /** Hashing threads; 0 hashes on the main thread. Output is the same for any number. */
  workers: number;
  /** Check each LSH candidate pair's exact Jaccard similarity of n-gram sets before merging. */
  verify: boolean;
  /** Minimum Jaccard similarity for `verify`. */
  jaccard: number;
  /** Cluster report path (JSONL). */
  report?: string;
  /** Where the spill goes (default: the OS temporary directory). */
  tmpDir?: string;
}

export const DEDUP_STAGE_DEFAULTS: DedupOptions = {
  ...DEDUP_DEFAULTS,
  mode: 'drop',
  workers: 0,
  verify: false,
  jaccard: 0.7,
};

const BATCH_DOCS = 256;
const BATCH_CHARS = 1 << 20;

export function signatureConfig(p: DedupParams): SignatureConfig {
  return { exact: p.exact, normalize: p.normalize, url: p.url, fuzzy: p.fuzzy, bands: p.bands, rows: p.rows, ngram: p.ngram, charNgram: p.charNgram, seed: p.seed };
}

/** A pool over the hashing worker module; `workers: 0` runs it in this thread. */
export function signaturePool(config: SignatureConfig, workers: number): WorkerPool<SignInput, Uint32Array, SignatureConfig> {
  return new WorkerPool(new URL('./worker.js', import.meta.url), { workers, init: config, batchSize: 1, inFlightPerWorker: 4 });
}

interface BatchMeta {
  files: number[];
  lines: number[];
  ranks: number[];
}

/**
 * Groups documents into hashing tasks of up to 256 documents or ~1M characters; `onDoc` sees every
 * document (in order) and `meta` receives each batch's per-document side data, in the same order.
 */
export async function* signatureTasks(docs: AsyncIterable<Doc>, onDoc: (doc: Doc) => [file: number, line: number, rank: number], meta: BatchMeta[]): AsyncGenerator<SignInput> {
  let task: SignInput = { texts: [], langs: [], urls: [] };
  let side: BatchMeta = { files: [], lines: [], ranks: [] };
  let chars = 0;
  for await (const doc of docs) {
    const [file, line, rank] = onDoc(doc);
    const text = typeof doc.text === 'string' ? doc.text : undefined;
    task.texts.push(text);
    task.langs.push(typeof doc.lang === 'string' ? doc.lang : undefined);
    task.urls.push(typeof doc.url === 'string' ? doc.url : undefined);
    side.files.push(file);
    side.lines.push(line);
    side.ranks.push(rank);
    chars += text?.length ?? 0;
    if (task.texts.length >= BATCH_DOCS || chars >= BATCH_CHARS) {
      meta.push(side);
      yield task;
      task = { texts: [], langs: [], urls: [] };
      side = { files: [], lines: [], ranks: [] };
      chars = 0;
    }
  }
  if (task.texts.length > 0) {
    meta.push(side);
    yield task;
  }
}

/** The documents that have text; the others are dropped (NO_TEXT) rather than hashed as empty. */
async function* withText(docs: AsyncIterable<Doc>, ctx: StageContext): AsyncGenerator<Doc> {
  for await (const doc of docs) {
    if (hasText(doc)) yield doc;
    else ctx.drop(doc, NO_TEXT);
  }
}

export const dedup = defineStage<DedupOptions>('dedup', DEDUP_STAGE_DEFAULTS, async function* (docs, opts, ctx) {
  validateParams(opts);
  if (opts.mode !== 'drop' && opts.mode !== 'tag') throw new UsageError(`dedup: --mode must be drop or tag, got "${opts.mode}"`);
  if (opts.verify && !(opts.jaccard > 0 && opts.jaccard <= 1)) throw new UsageError(`dedup: --jaccard must be in (0, 1], got ${opts.jaccard}`);
  const config = signatureConfig(opts);
  const width = rowWidth(config);
  const index = new DedupIndex(opts.bands, opts.keep, opts.verify && opts.fuzzy);
  const spill = new Spill(opts.tmpDir);
  const pool = signaturePool(config, opts.workers);
  try {
    const meta: BatchMeta[] = [];
    let ordinal = 0;
    const onDoc = (doc: Doc): [number, number, number] => {
      spill.write(doc);
      ordinal += 1;
      const loc = locationOf(doc);
      return [index.fileNumber(loc?.file ?? '<input>'), loc?.line ?? ordinal, rankOf(doc, opts.keep)];
    };
    for await (const result of pool.map(signatureTasks(withText(docs, ctx), onDoc, meta))) {
      if (!result.ok) throw new Error(`dedup: hashing failed: ${result.error}`);
      const side = meta.shift()!;
      for (let k = 0; k < side.files.length; k++) index.add(result.value, k * width, side.files[k]!, side.lines[k]!, side.ranks[k]!);
    }
    await pool.close();
    spill.finish();
    if (index.candidates) {
      const { checked, confirmed } = await verifyCandidates(index, spill.path, opts, opts.jaccard);
      ctx.count('pairs_checked', checked);
      ctx.count('pairs_confirmed', confirmed);
    }
    const clustering = index.finalize();
    const location = (i: number) => clusterId(index.files[index.fileIndex.get(i)]!, index.line.get(i));
    ctx.count('exact_duplicates', index.counts.exact);
    if (opts.url) ctx.count('url_duplicates', index.counts.url);
    ctx.count('state_bytes', index.bytes);
    if (opts.report) {
      ctx.count(
        'clusters',
        writeClusterReport(opts.report, { n: index.size, root: clustering.root, size: clustering.size, best: clustering.best, marks: index.marks.data, location }),
      );
    }
    let i = 0;
    for await (const doc of readDocs([spill.path])) {
      setLocation(doc, { file: index.files[index.fileIndex.get(i)]!, line: index.line.get(i) });
      const root = clustering.root[i]!;
      const decision = {
        cluster: location(root),
        size: clustering.size[root]!,
        kept: clustering.best[root] === i,
        reason: dropReason(index.marks.get(i)),
      };
      i += 1;
      const out = applyDecision(doc, decision, opts.mode, ctx);
      if (out) yield out;
    }
  } finally {
    await pool.close();
    spill.remove();
  }
});

