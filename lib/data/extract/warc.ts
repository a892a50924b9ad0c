// WARC and WARC.gz reading on warcio (per-record or whole-file gzip). Each response or resource
// record becomes a page, located by `file:offset` (the record's byte offset in the file, as
// Common Crawl indexes give it); every other record type is counted, not yielded. A damaged gzip
// member (corrupt or cut short) in a per-record WARC.gz is skipped: reading resumes at the next
// member, found by its magic bytes, as `gzip -d` cannot but `warcio recompress` and zran do.
import { WARCParser, type WARCRecord } from 'warcio';
import { quoteInput } from '../../errors.js';

export interface WarcPage {
  /** Byte offset of the record in the (compressed) file. */
  offset: number;
  recordId?: string;
  url?: string;
  date?: string;
  /** HTTP Content-Type (response records) or the record's own Content-Type (resource records). */
  contentType?: string;
  status?: number;
  /** The decoded payload (chunking and Content-Encoding undone), unless `skip` says why not. */
  body?: Uint8Array;
  skip?: string;
}

export interface WarcReadOptions {
  maxPageBytes: number;
  /** Called once per record of any type (warcinfo, request, metadata, revisit…). */
  countRecord?: (type: string) => void;
  /** warcio's own warnings (e.g. a record longer than its Content-Length), which it would print. */
  warn?: (message: string) => void;
  /** Called with the number of bytes of each damaged stretch skipped to reach the next gzip member. */
  countSkippedBytes?: (bytes: number) => void;
}

const HTML_TYPES = /^\s*(text\/html|application\/xhtml\+xml)/i;
const PAGE_TYPES = new Set(['response', 'resource']);

/** Whether a Content-Type names HTML; without one the body is sniffed (`<` after whitespace). */
export function isHtml(contentType: string | undefined, body?: Uint8Array): boolean {
  if (contentType && contentType.trim()) return HTML_TYPES.test(contentType);
  if (!body) return true;
  const start = Buffer.from(body.buffer, body.byteOffset, Math.min(body.length, 512)).toString('latin1').trimStart().toLowerCase();
  return start.startsWith('<!doctype html') || start.startsWith('<html') || start.startsWith('<');
}

// warcio keeps the record's length-limited reader private; its `limit` left after reading tells
// whether the file ended before the record's Content-Length did.
interface LimitReaderView {
  limit?: number;
}

// warcio stops quietly when the data ends inside a gzip member before a record's headers are
// complete; its inflater not having reached the member's end tells that apart from a clean end.
interface ParserView {
  _reader?: { compressed?: string | null; inflator?: { ended?: boolean } | null };
}

function endsInsideGzipMember(parser: WARCParser): boolean {
  const reader = (parser as unknown as ParserView)._reader;
  return Boolean(reader?.compressed && reader.inflator && !reader.inflator.ended);
}

function unreadBytes(record: WARCRecord): number {
  const reader = (record as unknown as { _reader?: LimitReaderView })._reader;
  return typeof reader?.limit === 'number' ? Math.max(0, reader.limit) : 0;
}

// Bytes kept for re-syncing: from the current record's start on, and at most this many (a larger
// record is not re-read; damage inside it ends the file as before).
const MAX_KEPT_BYTES = 64 << 20;

/**
 * The raw bytes on their way to warcio, kept from the current record's start, so that after a
 * damaged gzip member reading can start again further on without re-opening the input.
 */
class KeptBytes {
  private chunks: Uint8Array[] = [];
  /** File offset of chunks[0]. */
  private start = 0;
  private end = 0;
  private readonly source: AsyncIterator<Uint8Array> | Iterator<Uint8Array>;

  constructor(stream: AsyncIterable<Uint8Array> | Iterable<Uint8Array>) {
    this.source = Symbol.asyncIterator in stream ? stream[Symbol.asyncIterator]() : stream[Symbol.iterator]();
  }

  private async pull(): Promise<Uint8Array | undefined> {
    const next = await this.source.next();
    if (next.done) return undefined;
    const chunk = next.value;
    this.chunks.push(chunk);
    this.end += chunk.length;
    while (this.end - this.start > MAX_KEPT_BYTES && this.chunks.length > 1) this.start += this.chunks.shift()!.length;
    return chunk;
  }

  /** Whether the stream has a byte at `offset`, reading on as needed. */
  async hasBytesAt(offset: number): Promise<boolean> {
    while (this.end <= offset) if (!(await this.pull())) return false;
    return true;
  }

  /** Whether a gzip member starts at `offset`. */
  async isGzipAt(offset: number): Promise<boolean> {
    if (offset < this.start || !(await this.hasBytesAt(offset + 1))) return false;
    const at = (i: number) => {
      let pos = i - this.start;
      for (const chunk of this.chunks) {
        if (pos < chunk.length) return chunk[pos];
        pos -= chunk.length;
      }
      return undefined;
    };
    return at(offset) === 0x1f && at(offset + 1) === 0x8b;
  }

  /** Forgets the bytes before `offset` (a record that was read whole). */
  release(offset: number): void {
    while (this.chunks.length > 0 && this.start + this.chunks[0]!.length <= offset) this.start += this.chunks.shift()!.length;
  }

  /** The stream from `offset` on: kept bytes first, then the rest of the input. */
  async *from(offset: number): AsyncGenerator<Uint8Array> {
    let at = this.start;
    for (const chunk of this.chunks.slice()) {
      if (at + chunk.length > offset) yield chunk.subarray(Math.max(0, offset - at));
      at += chunk.length;
    }
    for (let chunk = await this.pull(); chunk; chunk = await this.pull()) yield chunk;
  }

  /** The offset of the next gzip member header at or after `offset`, reading on as needed; undefined at the end. */
  async nextGzipMember(offset: number): Promise<number | undefined> {
    if (offset < this.start) return undefined;
    for (;;) {
      const bytes = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
      for (let i = bytes.indexOf(0x1f, offset - this.start); i >= 0 && i + 3 < bytes.length; i = bytes.indexOf(0x1f, i + 1)) {
        // 1f 8b, deflate, no reserved flag bits
        if (bytes[i] === 0x1f && bytes[i + 1] === 0x8b && bytes[i + 2] === 0x08 && (bytes[i + 3]! & 0xe0) === 0) {
          this.chunks = [bytes];
          return this.start + i;
        }
      }
      // Only the last three bytes can still begin a header that the next chunk completes.
      const keep = Math.max(offset, this.end - 3);
      this.chunks = [bytes.subarray(keep - this.start)];
      this.start = offset = keep;
      if (!(await this.pull())) return undefined;
    }
  }
}

interface Damage {
  /** Offset of the damaged member. */
  offset: number;
  /** The record in it, when its headers could be read. */
  page?: WarcPage;
}

interface ReadState {
  /** A per-record WARC.gz, where reading can resume at the next gzip member. */
  gzip: boolean;
  records: number;
  /** A damaged stretch not yet reported: it ends where a record is read again. */
  damage?: Damage;
}

/**
 * Yields the pages of one WARC stream. Throws (with the offset in the message) on bytes that are
 * not a WARC record; truncated records come back with `skip` set. In a WARC.gz, a damaged gzip
 * member comes back as a page skipped as `corrupt gzip member` (the skipped bytes are reported
 * through `warn` and `countSkippedBytes`), and reading goes on at the next member.
 */
export async function* readWarc(stream: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, opts: WarcReadOptions): AsyncGenerator<WarcPage> {
  const kept = new KeptBytes(stream);
  const state: ReadState = { gzip: await kept.isGzipAt(0), records: 0 };
  let base = 0;
  for (;;) {
    const end = yield* readSegment(new WARCParser(kept.from(base)), base, kept, opts, state);
    const damage = state.damage ?? (end === 'end' ? undefined : end);
    if (!damage) return;
    state.damage = damage;
    // A stray 1f 8b 08 inside the damaged stretch may be taken for a member: the search goes on
    // past each start that does not give a record.
    const resume = end === 'end' ? undefined : await kept.nextGzipMember(end.offset + 1);
    if (resume === undefined) {
      yield { ...damage.page, offset: damage.offset, skip: damage.page ? 'truncated record' : 'truncated record (gzip member cut short)' };
      return;
    }
    base = resume;
  }
}

/**
 * The pages of the stream from `base` on, read until its end (returns 'end') or, in a WARC.gz,
 * a damaged gzip member (returns where it starts). The first record read after a damaged
 * stretch reports it, as a skipped page.
 */
async function* readSegment(parser: WARCParser, base: number, kept: KeptBytes, opts: WarcReadOptions, state: ReadState): AsyncGenerator<WarcPage, Damage | 'end'> {
  const resumable = () => state.gzip && state.records > 0;
  for (;;) {
    let record: WARCRecord | null;
    // warcio reports some damage through console.warn; route it to the caller, located.
    const consoleWarn = console.warn;
    console.warn = (...args: unknown[]) => (opts.warn ? opts.warn(args.map(String).join(' ')) : consoleWarn(...args));
    try {
      record = await parser.parse();
    } catch (err) {
      if (resumable()) return { offset: base + parser.offset };
      if (state.records === 0) throw new Error(`not a WARC file (${quoteInput((err as Error).message, 80)})`);
      throw new Error(`offset ${base + parser.offset}: not a valid WARC record: ${quoteInput((err as Error).message, 80)}`);
    } finally {
      console.warn = consoleWarn;
    }
    if (!record) {
      // warcio stops quietly where the data ends inside a gzip member, and at a member it cannot
      // inflate (bytes are left after where it stopped).
      const at = base + parser.offset;
      if (endsInsideGzipMember(parser) || (resumable() && (await kept.hasBytesAt(at)))) return { offset: at };
      return 'end';
    }
    const offset = base + parser.offset;
    kept.release(offset);
    const type = record.warcType ?? 'unknown';
    const protocol = record.warcHeaders.protocol ?? '';
    if (!protocol.startsWith('WARC/')) {
      if (resumable()) return { offset };
      // Input bytes are quoted escaped: raw, they could garble the terminal.
      if (state.records === 0) throw new Error(`not a WARC file (starts with ${quoteInput(protocol, 40)})`);
      throw new Error(`offset ${offset}: not a WARC record (starts with ${quoteInput(protocol, 40)})`);
    }
    state.records += 1;
    if (state.damage) {
      const { damage } = state;
      state.damage = undefined;
      const skipped = base - damage.offset;
      opts.countSkippedBytes?.(skipped);
      opts.warn?.(`offset ${damage.offset}: corrupt gzip member; ${skipped} bytes skipped, reading resumed at offset ${base}`);
      yield { ...damage.page, offset: damage.offset, skip: 'corrupt gzip member' };
    }
    opts.countRecord?.(type);
    if (!PAGE_TYPES.has(type)) continue;
    const page: WarcPage = {
      offset,
      recordId: record.warcHeader('WARC-Record-ID')?.replace(/^<|>$/g, '') || undefined,
      url: record.warcTargetURI?.trim() || undefined,
      date: record.warcDate ?? undefined,
    };
    if (type === 'response') {
      page.contentType = record.httpHeaders?.headers.get('content-type') ?? undefined;
      page.status = Number(record.httpHeaders?.statusCode) || undefined;
    } else {
      page.contentType = record.warcContentType ?? undefined;
    }
    if (type === 'response' && !record.httpHeaders) {
      page.skip = 'parse error: response record without HTTP headers';
    } else if (page.contentType && !isHtml(page.contentType)) {
      page.skip = 'non-html';
    } else if (record.warcContentLength > opts.maxPageBytes) {
      page.skip = 'too large';
    } else if (page.status !== undefined && (page.status < 200 || page.status >= 300)) {
      page.skip = `http status ${page.status}`;
    }
    if (page.skip) {
      yield page;
      continue;
    }
    const raw = await record.readFully(false);
    if (unreadBytes(record) > 0) {
      // The record ends early: in a WARC.gz the next member may still be found; in a plain WARC
      // nothing after it can be located reliably.
      if (state.gzip) return { offset, page };
      page.skip = 'truncated record';
      yield page;
      return 'end';
    }
    const body = await record.readFully(true);
    if (raw.length > 0 && body.length === 0) page.skip = 'undecodable body';
    else if (!isHtml(page.contentType, body)) page.skip = 'non-html';
    else page.body = body;
    yield page;
  }
}
