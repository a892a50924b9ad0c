import { decodedChunks } from './compression.js';
import { DataError } from './errors.js';
import { resolveInputs, type InputSource, type ResolveOptions } from './inputs.js';
import { lineBatches } from './lines.js';
import { setLocation } from './location.js';
import type { RejectSink } from './rejects.js';
import type { Doc, OnError } from './types.js';

/** Counts kept by a reader; the run summary and progress display read them. */
export class ReadCounters {
  records = 0;
  bytes = 0;
  rejected = 0;
  blank = 0;
  files = 0;
}

export interface ReadOptions extends ResolveOptions {
  onError?: OnError;
  rejects?: RejectSink;
  counters?: ReadCounters;
  /** Called for each bad line under `--on-error skip` (the CLI prints `file:line: reason`). */
  warn?: (message: string) => void;
}

/** Reads JSONL documents from command-line inputs (see resolveInputs). */
export async function* readDocs(specs: readonly string[], opts: ReadOptions = {}): AsyncGenerator<Doc> {
  const sources = await resolveInputs(specs, opts);
  // One generator level per record (no yield* delegation): each level costs a promise per record.
  for (const source of sources) for await (const batch of docBatches(source, opts)) for (const doc of batch) yield doc;
}

/** Reads one JSONL byte source; each document remembers its `file:line` (see locationOf). */
export async function* readSource(source: InputSource, opts: ReadOptions = {}): AsyncGenerator<Doc> {
  for await (const batch of docBatches(source, opts)) for (const doc of batch) yield doc;
}

/** The documents of one source, a batch per decoded chunk; bad lines handled per `onError`. */
async function* docBatches(source: InputSource, opts: ReadOptions): AsyncGenerator<Doc[]> {
  const counters = opts.counters ?? new ReadCounters();
  const onError = opts.onError ?? 'fail';
  const file = source.name;
  counters.files += 1;
  try {
    const chunks = countBytes(decodedChunks(source.open()), counters);
    for await (const { lines, firstLine } of lineBatches(chunks)) {
      const docs: Doc[] = [];
      for (let i = 0; i < lines.length; i++) {
        const raw = lines[i]!;
        const line = firstLine + i;
        const parsed = parseRecord(raw);
        if (parsed === undefined) {
          counters.blank += 1;
          continue;
        }
        if (typeof parsed === 'string') {
          const loc = { file, line };
          if (onError === 'fail') {
            // Records before the bad line are still delivered, as a Unix filter would.
            if (docs.length > 0) yield docs;
            throw new DataError(parsed, loc);
          }
          counters.rejected += 1;
          opts.rejects?.addLine(raw, parsed, loc);
          opts.warn?.(`${file}:${line}: ${parsed}`);
          continue;
        }
        counters.records += 1;
        setLocation(parsed, { file, line });
        docs.push(parsed);
      }
      if (docs.length > 0) yield docs;
    }
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError(`${file}: cannot read: ${(err as Error).message}`);
  }
}

/** A document, undefined for a blank line, or the reason the line is not a document. */
function parseRecord(raw: string): Doc | string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    if (raw.trim() === '') return undefined;
    return `invalid JSON: ${(err as Error).message}`;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return `expected a JSON object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`;
  }
  return value as Doc;
}

async function* countBytes(chunks: AsyncIterable<Buffer>, counters: ReadCounters): AsyncGenerator<Buffer> {
  for await (const chunk of chunks) {
    counters.bytes += chunk.length;
    yield chunk;
  }
}
