// A minimal WARC/1.0 record writer, for the quickstart generator and test fixtures: records are
// deterministic (ids and dates come from the caller) and each can be its own gzip member, as
// crawlers write them.
import { gzipSync } from 'node:zlib';

export interface WarcRecordSpec {
  type: 'warcinfo' | 'request' | 'response' | 'resource' | 'metadata' | 'revisit';
  recordId: string;
  date: string;
  url?: string;
  /** An HTTP response (status line and headers) before the body, for `response` records. */
  http?: { status: number; headers: Record<string, string> };
  /** The record's own Content-Type (default: application/http for responses). */
  contentType?: string;
  body: Uint8Array | string;
}

const CRLF = '\r\n';

/** One record's bytes, uncompressed. */
export function warcRecord(spec: WarcRecordSpec): Buffer {
  const body = typeof spec.body === 'string' ? Buffer.from(spec.body) : Buffer.from(spec.body);
  let block = body;
  if (spec.http) {
    const head = [`HTTP/1.1 ${spec.http.status} ${spec.http.status === 200 ? 'OK' : 'Status'}`, ...Object.entries(spec.http.headers).map(([k, v]) => `${k}: ${v}`)].join(CRLF);
    block = Buffer.concat([Buffer.from(head + CRLF + CRLF), body]);
  }
  const contentType = spec.contentType ?? (spec.http ? 'application/http; msgtype=response' : 'application/octet-stream');
  const headers = [
    'WARC/1.0',
    `WARC-Type: ${spec.type}`,
    `WARC-Record-ID: <${spec.recordId}>`,
    `WARC-Date: ${spec.date}`,
    ...(spec.url ? [`WARC-Target-URI: ${spec.url}`] : []),
    `Content-Type: ${contentType}`,
    `Content-Length: ${block.length}`,
  ].join(CRLF);
  return Buffer.concat([Buffer.from(headers + CRLF + CRLF), block, Buffer.from(CRLF + CRLF)]);
}

/** A record as its own gzip member (concatenated members make a .warc.gz). */
export function gzipRecord(spec: WarcRecordSpec): Buffer {
  return gzipSync(warcRecord(spec));
}
