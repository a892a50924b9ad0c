// WARC and WARC.gz reading on warcio (per-record or whole-file gzip). Each response or resource
// record becomes a page, located by `file:offset` (the record's byte offset in the file, as
// Common Crawl indexes give it); every other record type is counted, not yielded.
import { WARCParser, type WARCRecord } from 'warcio';

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

/**
 * Yields the pages of one WARC stream. Throws (with the offset in the message) on bytes that are
 * not a WARC record; truncated records come back with `skip` set.
 */
export async function* readWarc(stream: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, opts: WarcReadOptions): AsyncGenerator<WarcPage> {
  const parser = new WARCParser(stream);
  let offset = 0;
  for (;;) {
    let record: WARCRecord | null;
    // warcio reports some damage through console.warn; route it to the caller, located.
    const consoleWarn = console.warn;
    console.warn = (...args: unknown[]) => (opts.warn ? opts.warn(args.map(String).join(' ')) : consoleWarn(...args));
    try {
      record = await parser.parse();
    } catch (err) {
      throw new Error(`offset ${parser.offset}: not a valid WARC record: ${(err as Error).message}`);
    } finally {
      console.warn = consoleWarn;
    }
    if (!record) {
      if (endsInsideGzipMember(parser)) yield { offset: parser.offset, skip: 'truncated record (gzip member cut short)' };
      return;
    }
    offset = parser.offset;
    const type = record.warcType ?? 'unknown';
    const protocol = record.warcHeaders.protocol ?? '';
    if (!protocol.startsWith('WARC/')) {
      throw new Error(`offset ${offset}: not a WARC record (starts with ${JSON.stringify(protocol.slice(0, 40))})`);
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
      page.skip = 'truncated record';
      yield page;
      return; // nothing after a truncated record can be located reliably
    }
    const body = await record.readFully(true);
    if (raw.length > 0 && body.length === 0) page.skip = 'undecodable body';
    else if (!isHtml(page.contentType, body)) page.skip = 'non-html';
    else page.body = body;
    yield page;
  }
}
