/** A run of consecutive lines from one chunk of input; `firstLine` is 1-based. */
export interface LineBatch {
  lines: string[];
  firstLine: number;
}

const NEWLINE = 0x0a;
const CR = 0x0d;

function decodeLine(buf: Buffer, start: number, end: number): string {
  if (end > start && buf[end - 1] === CR) end -= 1;
  return buf.toString('utf8', start, end);
}

/**
 * Splits a byte stream into text lines, in batches (one per input chunk) to keep per-line
 * overhead low. Handles a UTF-8 BOM, CRLF endings and a missing final newline.
 */
export async function* lineBatches(chunks: AsyncIterable<Buffer>): AsyncGenerator<LineBatch> {
  // Pieces of a line that spans chunks; joined once, when its newline arrives.
  let partial: Buffer[] = [];
  let lineNumber = 1;
  let first = true;
  for await (let chunk of chunks) {
    if (first && chunk.length > 0) {
      first = false;
      if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3);
    }
    const firstNewline = chunk.indexOf(NEWLINE);
    if (firstNewline === -1) {
      if (chunk.length > 0) partial.push(chunk);
      continue;
    }
    const lines: string[] = [];
    let start = 0;
    if (partial.length > 0) {
      partial.push(chunk.subarray(0, firstNewline));
      const joined = Buffer.concat(partial);
      lines.push(decodeLine(joined, 0, joined.length));
      partial = [];
      start = firstNewline + 1;
    }
    // Decode everything up to the last newline at once (a newline byte never sits inside a UTF-8
    // sequence), then cut lines out of the string: one decode per chunk instead of one per line.
    const last = chunk.lastIndexOf(NEWLINE);
    if (last >= start) {
      for (const line of chunk.toString('utf8', start, last).split('\n')) {
        lines.push(line.charCodeAt(line.length - 1) === CR ? line.slice(0, -1) : line);
      }
    }
    if (last + 1 < chunk.length) partial.push(chunk.subarray(last + 1));
    yield { lines, firstLine: lineNumber };
    lineNumber += lines.length;
  }
  if (partial.length > 0) {
    const last = Buffer.concat(partial);
    yield { lines: [decodeLine(last, 0, last.length)], firstLine: lineNumber };
  }
}
