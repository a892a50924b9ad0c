import { isUtf8 } from 'node:buffer';

/** A run of consecutive lines from one chunk of input; `firstLine` is 1-based. */
export interface LineBatch {
  lines: string[];
  firstLine: number;
}

export interface LineOptions {
  /**
   * Lines longer than this many bytes are never decoded: their bytes are skipped as they stream
   * past, and the line comes out as LINE_TOO_LONG. Default: DEFAULT_MAX_LINE_BYTES.
   */
  maxLineBytes?: number;
  /** Called with the number of each line that is not valid UTF-8 (it is decoded with U+FFFD in place of the bad bytes). */
  onInvalidUtf8?: (line: number) => void;
}

/**
 * Stands in for a line over the byte limit. A lone surrogate: no line decoded from UTF-8 can
 * equal it, so a reader tells it apart with one comparison.
 */
export const LINE_TOO_LONG = '\ud800';

/** 256 MiB: far above any real record, and half of the longest string V8 can build (~512 MiB). */
export const DEFAULT_MAX_LINE_BYTES = 256 * 1024 * 1024;

const NEWLINE = 0x0a;
const CR = 0x0d;

/**
 * Splits a byte stream into text lines, in batches (one per input chunk) to keep per-line
 * overhead low. Handles a UTF-8 BOM, CRLF endings and a missing final newline; see LineOptions for
 * over-long lines and invalid UTF-8.
 */
export async function* lineBatches(chunks: AsyncIterable<Buffer>, opts: LineOptions = {}): AsyncGenerator<LineBatch> {
  const maxBytes = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  // A line of n UTF-16 units holds between n and 3n bytes: only lines past maxBytes/3 units need measuring.
  const measureFrom = Math.floor(maxBytes / 3);
  const onInvalid = opts.onInvalidUtf8;
  // Pieces of a line that spans chunks; joined once, when its newline arrives.
  let partial: Buffer[] = [];
  let partialBytes = 0;
  // The line being read is over the limit: its bytes are dropped up to its newline.
  let skipping = false;
  let lineNumber = 1;
  let first = true;

  /** The line of `bytes` (a whole line without its LF), or LINE_TOO_LONG. A CR ending is not part of the line. */
  const decodeLine = (bytes: Buffer, line: number): string => {
    const end = bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.length - 1 : bytes.length;
    if (end > maxBytes) return LINE_TOO_LONG;
    if (onInvalid && !isUtf8(bytes)) onInvalid(line);
    return bytes.toString('utf8', 0, end);
  };
  /** Adds a piece of the unfinished line, or gives up on the line once it is over the limit (plus a CR). */
  const keepPartial = (piece: Buffer) => {
    if (skipping || piece.length === 0) return;
    if (partialBytes + piece.length > maxBytes + 1) {
      partial = [];
      partialBytes = 0;
      skipping = true;
      return;
    }
    partial.push(piece);
    partialBytes += piece.length;
  };

  for await (let chunk of chunks) {
    if (first && chunk.length > 0) {
      first = false;
      if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3);
    }
    const firstNewline = chunk.indexOf(NEWLINE);
    if (firstNewline === -1) {
      keepPartial(chunk);
      continue;
    }
    const lines: string[] = [];
    let start = 0;
    if (skipping || partial.length > 0) {
      if (skipping || partialBytes + firstNewline > maxBytes + 1) lines.push(LINE_TOO_LONG);
      else lines.push(decodeLine(Buffer.concat([...partial, chunk.subarray(0, firstNewline)]), lineNumber));
      partial = [];
      partialBytes = 0;
      skipping = false;
      start = firstNewline + 1;
    }
    // Decode everything up to the last newline at once (a newline byte never sits inside a UTF-8
    // sequence), then cut lines out of the string: one decode per chunk instead of one per line.
    const last = chunk.lastIndexOf(NEWLINE);
    if (last >= start) {
      const bytes = chunk.subarray(start, last);
      const firstIndex = lines.length;
      for (let line of bytes.toString('utf8').split('\n')) {
        if (line.charCodeAt(line.length - 1) === CR) line = line.slice(0, -1);
        lines.push(line.length > measureFrom && (line.length > maxBytes || Buffer.byteLength(line) > maxBytes) ? LINE_TOO_LONG : line);
      }
      if (onInvalid && !isUtf8(bytes)) reportInvalidLines(bytes, lineNumber + firstIndex, onInvalid);
    }
    keepPartial(chunk.subarray(last + 1));
    yield { lines, firstLine: lineNumber };
    lineNumber += lines.length;
  }
  if (skipping) yield { lines: [LINE_TOO_LONG], firstLine: lineNumber };
  else if (partial.length > 0) yield { lines: [decodeLine(Buffer.concat(partial), lineNumber)], firstLine: lineNumber };
}

/** The slow path, for a chunk known to hold invalid UTF-8: which of its lines do. */
function reportInvalidLines(bytes: Buffer, firstLine: number, onInvalid: (line: number) => void): void {
  for (let start = 0, line = firstLine; start <= bytes.length; line++) {
    let end = bytes.indexOf(NEWLINE, start);
    if (end === -1) end = bytes.length;
    if (!isUtf8(bytes.subarray(start, end))) onInvalid(line);
    start = end + 1;
  }
}
