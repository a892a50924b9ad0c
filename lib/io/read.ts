import { DamagedDataError, decodedChunks } from './compression.js';
import { DataError, escapeControls, quoteInput } from '../errors.js';
import { resolveInputs, type InputSource, type ResolveOptions } from './inputs.js';
import { DEFAULT_MAX_LINE_BYTES, LINE_TOO_LONG, lineBatches } from './lines.js';
import { setLocation } from './location.js';
import { rememberLine } from './lossless.js';
import type { RejectSink } from './rejects.js';
import { isTextFile, textDocBatches, type TextSplit } from './text-input.js';
import type { Doc, Location, OnError } from './types.js';

/** Counts kept by a reader; the run summary and progress display read them. */
export class ReadCounters {
  records = 0;
  bytes = 0;
  rejected = 0;
  blank = 0;
  files = 0;
  /** Lines that were not valid UTF-8 (read with U+FFFD in place of the bad bytes), and where the first was. */
  invalidUtf8Lines = 0;
  firstInvalidUtf8?: Location;
}

export interface ReadOptions extends ResolveOptions {
  onError?: OnError;
  rejects?: RejectSink;
  counters?: ReadCounters;
  /** Longer lines are rejected without being read into memory (`--max-line-bytes`). */
  maxLineBytes?: number;
  /** Called for each bad line under `--on-error skip` (the CLI prints `file:line: reason`). */
  warn?: (message: string) => void;
  /** `.txt` inputs: one document per file (default) or per paragraph (`--txt-split`). */
  txtSplit?: TextSplit;
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
  if (isTextFile(file)) return yield* textDocBatches(source, opts, counters);
  const maxLineBytes = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const onInvalidUtf8 = (line: number) => {
    counters.invalidUtf8Lines += 1;
    counters.firstInvalidUtf8 ??= { file, line };
  };
  let linesRead = 0;
  try {
    const chunks = countBytes(decodedChunks(source.open()), counters);
    for await (const { lines, firstLine } of lineBatches(chunks, { maxLineBytes, onInvalidUtf8 })) {
      linesRead = firstLine + lines.length - 1;
      const docs: Doc[] = [];
      for (let i = 0; i < lines.length; i++) {
        const raw = lines[i]!;
        const line = firstLine + i;
        const parsed = raw === LINE_TOO_LONG ? `line longer than the limit of ${maxLineBytes} bytes (raise it with --max-line-bytes)` : parseRecord(raw);
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
          // An over-long line was never read into memory: its reject entry says where it is.
          if (raw === LINE_TOO_LONG) opts.rejects?.add({ reason: parsed, ...loc });
          else opts.rejects?.addLine(raw, parsed, loc);
          opts.warn?.(`${file}:${line}: ${parsed}`);
          continue;
        }
        counters.records += 1;
        setLocation(parsed, { file, line });
        rememberLine(parsed, raw);
        docs.push(parsed);
      }
      if (docs.length > 0) yield docs;
    }
  } catch (err) {
    if (err instanceof DataError) throw err;
    if (!(err instanceof DamagedDataError)) throw new DataError(`${file}: cannot read: ${(err as Error).message}`);
    // The lines before the damage were delivered; say how far the file got.
    const reason = `${file}: ${err.message} after ${linesRead} lines`;
    if (onError === 'fail') throw new DataError(reason);
    counters.rejected += 1;
    opts.rejects?.add({ reason: err.message, file, line: linesRead + 1 });
    opts.warn?.(`${reason} (rest of this file skipped)`);
  }
}

/** A document, undefined for a blank line, or the reason the line is not a document. */
function parseRecord(raw: string): Doc | string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    if (raw.trim() === '') return undefined;
    if (looksBinary(raw)) return `not JSONL: binary data ${quoteInput(raw, 24)}`;
    return `invalid JSON: ${escapeControls((err as Error).message)}`;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return `expected a JSON object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`;
  }
  return value as Doc;
}

/** A line that does not even start like JSON and holds control bytes or undecodable UTF-8. */
function looksBinary(raw: string): boolean {
  return !/^\s*[{[]/.test(raw) && /[\u0000-\u0008\u000e-\u001f\u007f\ufffd]/.test(raw.slice(0, 4096));
}

export async function* countBytes(chunks: AsyncIterable<Buffer>, counters: ReadCounters): AsyncGenerator<Buffer> {
  for await (const chunk of chunks) {
    counters.bytes += chunk.length;
    yield chunk;
  }
}
