// The streaming mode reads its input once; the kept decision needs every cluster's final
// membership, so the documents are spilled to a temporary JSONL file and replayed after pass one.
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Doc } from '../../io/types.js';
import { jsonLine } from '../../io/write.js';

const FLUSH_CHARS = 1 << 20;
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export class Spill {
  readonly dir: string;
  readonly path: string;
  private fd: number;
  private buffer = '';
  bytes = 0;

  constructor(parent = tmpdir()) {
    this.dir = mkdtempSync(join(parent, 'loom-dedup-'));
    this.path = join(this.dir, 'docs.jsonl');
    this.fd = openSync(this.path, 'w');
    // `| head` ends the process with process.exit, and Ctrl-C with a signal: neither runs
    // `finally`, so the spill also goes on exit and on SIGINT/SIGTERM (re-raised afterwards).
    process.once('exit', this.removeOnExit);
    for (const signal of SIGNALS) process.once(signal, this.removeOnSignal);
  }

  write(doc: Doc): void {
    this.buffer += jsonLine(doc);
    if (this.buffer.length >= FLUSH_CHARS) this.flush();
  }

  finish(): void {
    this.flush();
    closeSync(this.fd);
    this.fd = -1;
  }

  remove(): void {
    process.off('exit', this.removeOnExit);
    for (const signal of SIGNALS) process.off(signal, this.removeOnSignal);
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    rmSync(this.dir, { recursive: true, force: true });
  }

  private readonly removeOnExit = () => this.remove();

  private readonly removeOnSignal = (signal: NodeJS.Signals) => {
    this.remove();
    process.kill(process.pid, signal);
  };

  private flush(): void {
    if (this.buffer === '') return;
    this.bytes += writeSync(this.fd, this.buffer);
    this.buffer = '';
  }
}
