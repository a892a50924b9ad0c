// Mixes sources to target shares of the output, the way pretraining mixes are specified (a share of
// web text, of books, of code): each source is up-sampled by repeating it, whole epochs plus a
// random part of one more, or down-sampled to a random part of it, with a cap on its epochs. The
// sources are interleaved at random, so every stretch of the output has about the target shares.
//
// Memory holds one reader per source and a few numbers per source: inputs are read twice or more
// (once to count them, then once per epoch of each source), never held.
import { DataError } from '../errors.js';
import { readDocs, type ReadOptions } from '../io/read.js';
import type { Doc } from '../io/types.js';
import { createRandom, type Random } from '../util/random.js';
import { valueAt } from './field-path.js';

/** What shares are shares of: documents, or UTF-8 bytes of `text` (a fair proxy for tokens in Chinese and English alike). */
export type MixUnit = 'docs' | 'bytes';

export interface MixOptions {
  /** Relative weight of each source; a source's target share is its weight over the sum. 0 leaves a source out. */
  weights: Map<string, number>;
  unit: MixUnit;
  /** The output's size in `unit`; default: the size of the weighted sources together. */
  total?: number;
  /** No source is repeated more than this many times (its share falls short instead; the others fill in). */
  maxEpochs: number;
  seed: number;
}

/** Where the documents come from: every source can be read again from its start. */
export interface MixInput {
  /** The counting pass: every document once, with the name of its source. Bad lines are reported here. */
  scan(): AsyncIterable<{ source: string; doc: Doc }>;
  /** Another pass over one source, in the order scan gave its documents. */
  reread(source: string): AsyncIterable<Doc>;
}

/** One source's line of the report: what it had, what was asked, what came out. */
export interface MixSourceReport {
  name: string;
  weight: number;
  /** Weight over the sum of weights. */
  target_share: number;
  docs_in: number;
  bytes_in: number;
  /** How many times the source is drawn: 0.25 keeps a quarter of it, 2.5 repeats it twice and a half. */
  epochs: number;
  /** True where --max-epochs held the source below its target share. */
  capped: boolean;
  docs_out: number;
  bytes_out: number;
  /** The share of the output (in the report's unit) the source realised. */
  share: number;
}

export interface MixReport {
  unit: MixUnit;
  max_epochs: number;
  /** The output size asked for, in `unit`. */
  total: number;
  /** The largest --total at which no source is capped: every target share can be met. */
  uncapped_total: number;
  sources: MixSourceReport[];
}

/** Where no source is named in the data (`--by source`, and the field is absent). */
export const NO_SOURCE = '(none)';
/** A `--weight` for every source not named otherwise. */
export const OTHER_SOURCES = '*';

/** `web=data/web.jsonl.gz:1` → a source read from its own files, with its weight (default 1). */
export function parseSourceSpec(text: string): { name: string; input: string; weight: number } | undefined {
  const match = /^([^=\s/]+)=(.+?)(?::(\d+(?:\.\d*)?|\.\d+))?$/.exec(text);
  if (!match) return undefined;
  return { name: match[1]!, input: match[2]!, weight: match[3] === undefined ? 1 : Number(match[3]) };
}

/** Sources that are files: each name reads its own inputs (paths, globs, directories). */
export function fileMixInput(sources: { name: string; inputs: string[] }[], opts: ReadOptions): MixInput {
  return {
    async *scan() {
      for (const { name, inputs } of sources) for await (const doc of readDocs(inputs, opts)) yield { source: name, doc };
    },
    reread: (name) => readDocs(sources.find((s) => s.name === name)!.inputs, rereadOptions(opts)),
  };
}

/** Sources named by a field of the documents (`source`, or any dotted path) in one input. */
export function fieldMixInput(inputs: string[], field: string, opts: ReadOptions): MixInput {
  const sourceOf = (doc: Doc) => {
    const value = valueAt(doc, field);
    return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : NO_SOURCE;
  };
  return {
    async *scan() {
      for await (const doc of readDocs(inputs, opts)) yield { source: sourceOf(doc), doc };
    },
    async *reread(name) {
      for await (const doc of readDocs(inputs, rereadOptions(opts))) if (sourceOf(doc) === name) yield doc;
    },
  };
}

/** Later passes see the lines the counting pass saw: bad ones were reported (or failed the run) there. */
function rereadOptions(opts: ReadOptions): ReadOptions {
  return { onError: 'skip', maxLineBytes: opts.maxLineBytes, txtSplit: opts.txtSplit };
}

const textBytes = (doc: Doc) => (typeof doc.text === 'string' ? Buffer.byteLength(doc.text) : 0);

/**
 * Water-filling: each source gets `level × weight` of `total`, except that none gets more than
 * `caps[i]`; what a capped source cannot take goes to the others in proportion to their weights.
 */
export function allocate(weights: readonly number[], caps: readonly number[], total: number): number[] {
  const shares = weights.map(() => 0);
  let open = weights.map((_, i) => i).filter((i) => weights[i]! > 0);
  let left = total;
  while (open.length > 0) {
    const level = left / open.reduce((sum, i) => sum + weights[i]!, 0);
    const capped = open.filter((i) => caps[i]! < level * weights[i]!);
    if (capped.length === 0) {
      for (const i of open) shares[i] = level * weights[i]!;
      break;
    }
    // A source over its cap at this level is over it at every higher level: cap them all at once.
    for (const i of capped) left -= shares[i] = caps[i]!;
    open = open.filter((i) => !capped.includes(i));
  }
  return shares;
}

/**
 * Mixes the sources of `input` (see MixOptions). `report` is filled in as the run goes: the plan
 * once the inputs are counted, the realised counts as documents come out. Deterministic for a seed.
 */
export async function* mix(input: MixInput, opts: MixOptions, report: Partial<MixReport> = {}): AsyncGenerator<Doc> {
  const counted = new Map<string, { docs: number; bytes: number }>();
  for await (const { source, doc } of input.scan()) {
    const c = counted.get(source) ?? counted.set(source, { docs: 0, bytes: 0 }).get(source)!;
    c.docs += 1;
    c.bytes += textBytes(doc);
  }
  const sources = mixSources(counted, opts.weights);
  const inUnit = (docs: number, bytes: number) => (opts.unit === 'docs' ? docs : bytes);
  const size = (s: MixSourceReport) => inUnit(s.docs_in, s.bytes_in);
  const weightSum = sources.reduce((sum, s) => sum + s.weight, 0);
  const total = opts.total ?? sources.reduce((sum, s) => sum + (s.weight > 0 ? size(s) : 0), 0);
  const shares = allocate(
    sources.map((s) => s.weight),
    sources.map((s) => opts.maxEpochs * size(s)),
    total,
  );
  Object.assign(report, {
    unit: opts.unit,
    max_epochs: opts.maxEpochs,
    total,
    uncapped_total: Math.min(...sources.filter((s) => s.weight > 0).map((s) => (opts.maxEpochs * size(s) * weightSum) / s.weight)),
    sources,
  });
  const random = createRandom(opts.seed);
  const draws = sources.map((s, i) => {
    s.target_share = s.weight / weightSum;
    s.epochs = size(s) > 0 ? shares[i]! / size(s) : 0;
    s.capped = s.weight > 0 && shares[i]! < total * s.target_share * (1 - 1e-9);
    return drawSource(input, s, createRandom(random.int(0x100000000)));
  });
  // Interleave at random: the next document comes from a source with probability proportional to what it has left.
  let left = draws.reduce((sum, d) => sum + d.count, 0);
  try {
    while (left > 0) {
      let pick = random.int(left);
      const i = draws.findIndex((d) => (pick -= d.count) < 0);
      const next = await draws[i]!.docs.next();
      if (next.done) throw changedInput(sources[i]!.name);
      draws[i]!.count -= 1;
      left -= 1;
      sources[i]!.docs_out += 1;
      sources[i]!.bytes_out += textBytes(next.value);
      yield next.value;
    }
  } finally {
    // A reader stopped inside its last epoch still holds its file open.
    await Promise.all(draws.map((d) => d.docs.return(undefined)));
    const out = sources.reduce((sum, s) => sum + inUnit(s.docs_out, s.bytes_out), 0);
    for (const s of sources) s.share = out > 0 ? inUnit(s.docs_out, s.bytes_out) / out : 0;
  }
}

/** The report's sources: every source counted and every source weighted, weights resolved. */
function mixSources(counted: Map<string, { docs: number; bytes: number }>, weights: Map<string, number>): MixSourceReport[] {
  const names = [...new Set([...[...weights.keys()].filter((n) => n !== OTHER_SOURCES), ...counted.keys()])];
  const unweighted = names.filter((n) => !weights.has(n) && !weights.has(OTHER_SOURCES));
  if (unweighted.length > 0) {
    const list = unweighted.map((n) => `${n} (${counted.get(n)!.docs} docs)`).join(', ');
    throw new DataError(`mix: no weight for source ${list}; give --weight NAME=W (0 leaves it out) or --weight '${OTHER_SOURCES}=W' for every other source`);
  }
  const sources = names.map((name) => {
    const c = counted.get(name) ?? { docs: 0, bytes: 0 };
    const weight = weights.get(name) ?? weights.get(OTHER_SOURCES)!;
    if (weight > 0 && c.docs === 0) throw new DataError(`mix: source ${name} has no documents`);
    return { name, weight, target_share: 0, docs_in: c.docs, bytes_in: c.bytes, epochs: 0, capped: false, docs_out: 0, bytes_out: 0, share: 0 };
  });
  if (!sources.some((s) => s.weight > 0)) throw new DataError('mix: every source has weight 0');
  return sources;
}

function changedInput(name: string): DataError {
  return new DataError(`mix: source ${name} changed while it was being read (its documents differ from the count)`);
}

/**
 * One source's documents for the mix: its whole epochs, then a uniform random part of one more
 * (exactly round(fraction × documents) of them, by selection sampling: Knuth's Algorithm S).
 */
function drawSource(input: MixInput, s: MixSourceReport, random: Random): { count: number; docs: AsyncGenerator<Doc> } {
  const n = s.docs_in;
  let whole = Math.floor(s.epochs);
  let part = Math.round((s.epochs - whole) * n);
  if (part === n) [whole, part] = [whole + 1, 0];
  async function* docs(): AsyncGenerator<Doc> {
    for (let epoch = 0; epoch < whole + (part > 0 ? 1 : 0); epoch++) {
      const wanted = epoch < whole ? n : part;
      let seen = 0;
      let taken = 0;
      for await (const doc of input.reread(s.name)) {
        if (seen >= n) throw changedInput(s.name);
        if (random.next() * (n - seen) < wanted - taken) {
          taken += 1;
          yield doc;
        }
        seen += 1;
      }
      if (seen !== n) throw changedInput(s.name);
    }
  }
  return { count: whole * n + part, docs: docs() };
}
