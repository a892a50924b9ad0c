import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { losslessJson } from './lossless.js';
import type { Doc } from './types.js';

/** Counts kept by a writer. */
export class WriteCounters {
  records = 0;
  bytes = 0;
}

const BATCH_BYTES = 64 * 1024;

/** Serializes one record as a JSONL line; a record read from JSONL keeps the text of its unchanged fields (see lossless.ts). */
export function jsonLine(doc: Doc): string {
  return losslessJson(doc) + '\n';
}

/**
 * Writes documents as JSONL to a stream, in ~64 KiB writes, waiting for 'drain' whenever the stream
 * says so: a slow consumer slows the whole pipeline instead of filling memory.
 */
export async function writeJsonl(docs: AsyncIterable<Doc>, out: Writable, counters = new WriteCounters()): Promise<WriteCounters> {
  let batch = '';
  const flush = async () => {
    // Encode once here rather than measuring the string and letting the stream encode it again.
    const bytes = Buffer.from(batch);
    batch = '';
    counters.bytes += bytes.length;
    await writeWithBackpressure(out, bytes);
  };
  try {
    for await (const doc of docs) {
      batch += jsonLine(doc);
      counters.records += 1;
      if (batch.length >= BATCH_BYTES) await flush();
    }
  } finally {
    // Records that made it through before an error are still delivered, as a Unix filter would.
    if (batch.length > 0) await flush();
  }
  return counters;
}

export async function writeWithBackpressure(out: Writable, data: string | Buffer): Promise<void> {
  if (!out.write(data)) await drained(out);
}

async function drained(out: Writable): Promise<void> {
  // 'close' or 'error' also end the wait, so a reader that went away cannot hang us.
  const settled = new AbortController();
  try {
    await Promise.race([once(out, 'drain', { signal: settled.signal }), once(out, 'close', { signal: settled.signal })]);
  } finally {
    settled.abort();
  }
}
