import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { losslessJson } from './lossless.js';
import type { Doc, Location } from './types.js';

/** One line of a `--rejects` file. `raw` holds an unparseable input line verbatim; `record` a dropped document. */
export interface RejectEntry {
  reason: string;
  stage?: string;
  file?: string;
  line?: number;
  raw?: string;
  record?: Doc;
}

const FLUSH_BYTES = 1 << 20;

/**
 * Appends rejected records to a JSONL file. Writes are synchronous (it is a regular file), so a
 * crash right after a rejection still leaves it on disk once flushed, and stages can reject from
 * synchronous code without a backpressure protocol.
 */
export class RejectSink {
  count = 0;
  private fd: number;
  private buffer: string[] = [];
  private bufferedBytes = 0;

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, 'w');
  }

  add(entry: RejectEntry): void {
    this.push(JSON.stringify(entry) + '\n');
  }

  addLine(raw: string, reason: string, loc: Location): void {
    this.add({ reason, file: loc.file, line: loc.line, raw });
  }

  addDoc(doc: Doc, reason: string, stage: string, loc?: Location): void {
    // The record is spliced in as losslessJson writes it, so its fields keep their exact text.
    const head = JSON.stringify({ reason, stage, ...(loc ? { file: loc.file, line: loc.line } : {}) } satisfies RejectEntry);
    this.push(`${head.slice(0, -1)},"record":${losslessJson(doc)}}\n`);
  }

  private push(line: string): void {
    this.buffer.push(line);
    this.bufferedBytes += line.length;
    this.count += 1;
    if (this.bufferedBytes >= FLUSH_BYTES) this.flush();
  }

  flush(): void {
    if (this.buffer.length === 0) return;
    writeSync(this.fd, this.buffer.join(''));
    this.buffer = [];
    this.bufferedBytes = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}
