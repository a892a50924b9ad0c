// The input side of extract: WARC files, raw HTML files (paths, directories, globs) and JSONL
// with an `html` field, all turned into page documents. A page document is a plain Doc with the
// page's metadata (id, url, warc_record_id…); its body travels beside it (see pageBody), so a
// dropped page can go to --rejects as metadata without megabytes of HTML.
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { glob } from 'tinyglobby';
import { DamagedDataError, decodedChunks } from '../../io/compression.js';
import { DataError, UsageError } from '../../errors.js';
import type { InputSource } from '../../io/inputs.js';
import { setLocation } from '../../io/location.js';
import { ReadCounters, readDocs, readSource, type ReadOptions } from '../../io/read.js';
import type { Doc } from '../../io/types.js';
import { MANIFEST_FILE } from '../../io/manifest.js';
import { readWarc } from './warc.js';

/** A page's body: bytes still to decode (WARC, HTML files) or text (JSONL `html`), or why it has none. */
export interface PageBody {
  bytes?: Uint8Array;
  html?: string;
  contentType?: string;
  skip?: string;
}

const bodies = new WeakMap<Doc, PageBody>();

export function pageBody(doc: Doc): PageBody | undefined {
  return bodies.get(doc);
}

export type PageKind = 'warc' | 'html' | 'jsonl';

const WARC_NAME = /\.(warc|arc)(\.gz)?$/i;
const HTML_NAME = /\.(html?|xhtml|shtml)(\.gz)?$/i;
const JSONL_NAME = /\.(jsonl|ndjson|json)(\.gz|\.zst)?$/i;
const GLOB_CHARS = /[*?[\]{}]/;

export interface PageReadOptions extends ReadOptions {
  maxPageBytes: number;
  /** Counts what is read but is not a page (WARC request/metadata records…). */
  count?: (key: string, n?: number) => void;
}

interface PageInput {
  name: string;
  kind?: PageKind;
  open(): AsyncIterable<Buffer>;
  size?: number;
}

/** Expands paths, directories (recursively: WARC, HTML and JSONL files), globs and `-`. */
export async function resolvePageInputs(specs: readonly string[], stdin: NodeJS.ReadableStream & { isTTY?: boolean } = process.stdin): Promise<PageInput[]> {
  if (specs.length === 0) {
    if (stdin.isTTY) throw new UsageError('no input: give WARC, HTML or JSONL files, directories or globs, or pipe them on stdin');
    specs = ['-'];
  }
  const inputs: PageInput[] = [];
  for (const spec of specs) {
    if (spec === '-') inputs.push({ name: '<stdin>', open: () => stdin as AsyncIterable<Buffer> });
    else if (existsSync(spec)) inputs.push(...(statSync(spec).isDirectory() ? directoryInputs(spec) : [fileInput(spec)]));
    else if (GLOB_CHARS.test(spec)) {
      const matches = (await glob(spec, { onlyFiles: true, expandDirectories: false })).sort();
      if (matches.length === 0) throw new DataError(`${spec}: no files match`);
      inputs.push(...matches.map(fileInput));
    } else throw new DataError(`${spec}: no such file or directory`);
  }
  return inputs;
}

function kindOfName(name: string): PageKind | undefined {
  if (WARC_NAME.test(name)) return 'warc';
  if (HTML_NAME.test(name)) return 'html';
  if (JSONL_NAME.test(name)) return 'jsonl';
  return undefined;
}

function fileInput(path: string): PageInput {
  return { name: path, kind: kindOfName(path), size: statSync(path).size, open: () => createReadStream(path, { highWaterMark: 1 << 20 }) };
}

function directoryInputs(dir: string): PageInput[] {
  // A loom shard directory is JSONL in its manifest's order.
  if (existsSync(join(dir, MANIFEST_FILE))) return [{ name: dir, kind: 'jsonl', open: () => (async function* () {})() }];
  const files: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (kindOfName(entry.name)) files.push(path);
    }
  };
  walk(dir);
  if (files.length === 0) throw new DataError(`${dir}: no WARC, HTML or JSONL files in this directory`);
  return files.map(fileInput);
}

/** Reads the first bytes without losing them, to tell WARC, JSONL and HTML apart by content. */
async function sniff(input: PageInput): Promise<{ kind: PageKind; open: () => AsyncIterable<Buffer> }> {
  const iterator = input.open()[Symbol.asyncIterator]();
  const first = await iterator.next();
  const head: Buffer = first.done ? Buffer.alloc(0) : Buffer.from(first.value);
  const open = () => (async function* () {
    if (head.length) yield head;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield Buffer.from(next.value);
  })();
  let text = head.subarray(0, 64).toString('latin1');
  if (head[0] === 0x1f && head[1] === 0x8b) {
    // gzip: WARC.gz or JSONL.gz; a gzip member header is at most a few hundred bytes.
    try {
      const flags = head[3]!;
      let start = 10;
      if (flags & 4) start += 2 + head.readUInt16LE(10);
      if (flags & 8) start = head.indexOf(0, start) + 1;
      text = inflateRawSync(head.subarray(start), { finishFlush: 2 /* Z_SYNC_FLUSH */ }).subarray(0, 64).toString('latin1');
    } catch {
      text = '';
    }
  }
  const kind: PageKind = text.startsWith('WARC/') ? 'warc' : /^\s*[{[]/.test(text) ? 'jsonl' : 'html';
  return { kind, open };
}

async function* countBytes(chunks: AsyncIterable<Buffer>, counters: ReadCounters): AsyncGenerator<Buffer> {
  for await (const chunk of chunks) {
    counters.bytes += chunk.length;
    yield chunk;
  }
}

/**
 * Reads pages from the command line's inputs. WARC problems that stop a file (bytes that are not
 * WARC) follow --on-error; page-level problems (non-HTML, too large, truncated) come back as
 * pages whose body says `skip`, so the extract stage counts, reports and rejects them.
 */
export async function* readPages(specs: readonly string[], opts: PageReadOptions): AsyncGenerator<Doc> {
  const counters = opts.counters ?? new ReadCounters();
  for (const input of await resolvePageInputs(specs, opts.stdin)) {
    if (statIsShardDir(input)) {
      yield* readDocs([input.name], { ...opts, counters });
      continue;
    }
    let kind = input.kind;
    let open = input.open;
    if (!kind) ({ kind, open } = await sniff(input));
    if (kind === 'jsonl') {
      yield* readSource({ name: input.name, open } satisfies InputSource, { ...opts, counters });
      continue;
    }
    counters.files += 1;
    if (kind === 'html') yield* readHtmlFile(input, open, opts, counters);
    else yield* readWarcFile(input.name, open, opts, counters);
  }
}

function statIsShardDir(input: PageInput): boolean {
  return input.kind === 'jsonl' && existsSync(input.name) && statSync(input.name).isDirectory();
}

async function* readHtmlFile(input: PageInput, open: () => AsyncIterable<Buffer>, opts: PageReadOptions, counters: ReadCounters): AsyncGenerator<Doc> {
  const doc: Doc = { id: input.name, source: input.name };
  setLocation(doc, { file: input.name, line: 1 });
  counters.records += 1;
  if (input.size !== undefined && input.size > opts.maxPageBytes) {
    bodies.set(doc, { skip: 'too large' });
    yield doc;
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of decodedChunks(countBytes(open(), counters))) {
      size += chunk.length;
      if (size > opts.maxPageBytes) {
        bodies.set(doc, { skip: 'too large' });
        yield doc;
        return;
      }
      chunks.push(chunk);
    }
  } catch (err) {
    if (!(err instanceof DamagedDataError)) throw err;
    // A cut-short page.html.gz is a page that cannot be read: dropped with the reason, like a truncated WARC record.
    bodies.set(doc, { skip: `${err.truncated ? 'truncated' : 'corrupt'} ${err.compression}` });
    yield doc;
    return;
  }
  bodies.set(doc, { bytes: Buffer.concat(chunks) });
  yield doc;
}

async function* readWarcFile(name: string, open: () => AsyncIterable<Buffer>, opts: PageReadOptions, counters: ReadCounters): AsyncGenerator<Doc> {
  try {
    for await (const page of readWarc(countBytes(open(), counters), { maxPageBytes: opts.maxPageBytes, countRecord: (type) => opts.count?.(`warc_${type}_records`), countSkippedBytes: (n) => opts.count?.('warc_bytes_skipped', n), warn: (message) => opts.warn?.(`${name}: ${message}`) })) {
      counters.records += 1;
      const doc: Doc = {
        id: page.recordId ?? `${name}:${page.offset}`,
        ...(page.url ? { url: page.url } : {}),
        ...(page.date ? { warc_date: page.date } : {}),
        source: name,
        warc_record_id: page.recordId,
        warc_offset: page.offset,
      };
      setLocation(doc, { file: name, line: page.offset });
      bodies.set(doc, page.skip ? { skip: page.skip } : { bytes: page.body, contentType: page.contentType });
      yield doc;
    }
  } catch (err) {
    const message = (err as Error).message;
    if (opts.onError !== 'skip') throw new DataError(`${name}: ${message}`);
    counters.rejected += 1;
    opts.warn?.(`${name}: ${message} (rest of this file skipped)`);
    opts.rejects?.add({ reason: `unreadable WARC: ${message}`, file: name });
  }
}

/** The `html` field of a JSONL page document: set aside as its body, so the output does not carry it. */
export function takeJsonlHtml(doc: Doc, maxPageBytes: number): PageBody {
  const html = doc.html;
  if (typeof html !== 'string') return { skip: 'no html field' };
  if (Buffer.byteLength(html) > maxPageBytes) return { skip: 'too large' };
  return { html };
}
