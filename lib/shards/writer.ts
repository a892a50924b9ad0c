// Writes one split's token stream into shards of k·seqLen+1 tokens (see format.ts). Each
// shard is written as `*.tmp`, its header completed, then renamed and recorded in the manifest, so
// the directory only ever lists finished shards. On resume the writer is told how many stream
// tokens the finished shards already hold and discards that many before writing again.
import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../errors.js';
import type { Split, TokenShardEntry } from './manifest.js';
import { bytesPerTokenFor, encodeHeader, HEADER_BYTES } from './format.js';

export interface SplitWriterOptions {
  dir: string;
  split: Split;
  seqLen: number;
  /** Windows per shard (shards hold windowsPerShard·seqLen+1 tokens). */
  windowsPerShard: number;
  vocabSize: number;
  vocabHash: string;
  eot: number;
  /** Shards already finished by an earlier run of the same command. */
  done: TokenShardEntry[];
  /** The earlier run finished: its shards are only checked against the input, never extended. */
  complete?: boolean;
  /** Called after each shard is renamed into place. */
  onShard: (entry: TokenShardEntry) => void;
}

const FLUSH_TOKENS = 1 << 18;

export function shardName(split: Split, index: number): string {
  return `${split}-${String(index).padStart(5, '0')}.bin`;
}

export class SplitWriter {
  private readonly width: 2 | 4;
  private readonly capacity: number;
  private skip: number;
  private offset: number;
  private index: number;
  private buffer: Uint16Array | Uint32Array;
  private buffered = 0;
  private open?: { fd: number; tmp: string; file: string; tokens: number; hash: Hash };
  /** Tokens appended in this run, including the ones discarded on resume. */
  streamTokens = 0;
  // The whole stream is hashed (in blocks) so each shard can record the hash of everything up to
  // its end, and a resumed run can check that its input gives the same tokens.
  private readonly stream = createHash('sha256');
  private readonly staged = new Uint32Array(4096);
  private stagedCount = 0;
  /** Stream length at the end of the last finished shard: where a resumed run checks its prefix. */
  private readonly checkAt: number;

  constructor(private readonly opts: SplitWriterOptions) {
    this.width = bytesPerTokenFor(opts.vocabSize);
    this.capacity = opts.windowsPerShard * opts.seqLen + 1;
    const lastDone = opts.done[opts.done.length - 1];
    // The next shard starts with the last token of the previous one.
    this.offset = lastDone ? lastDone.offset + lastDone.tokens - 1 : 0;
    this.skip = this.offset;
    this.checkAt = lastDone ? lastDone.offset + lastDone.tokens : 0;
    this.index = opts.done.length;
    this.buffer = this.width === 2 ? new Uint16Array(FLUSH_TOKENS) : new Uint32Array(FLUSH_TOKENS);
  }

  append(tokens: ArrayLike<number>): void {
    const ids = tokens instanceof Uint32Array ? tokens : Uint32Array.from(tokens);
    for (let i = 0; i < ids.length; ) {
      // Token by token only while a resumed run discards or checks its prefix.
      if (this.opts.complete || this.streamTokens < this.checkAt) this.appendOne(ids[i++]!);
      else i += this.appendRun(ids.subarray(i));
    }
  }

  /**
   * Copies the longest prefix of `ids` that fills neither the hash block, the write buffer nor the
   * shard (the per-token path cost a quarter of the writer's own time); returns its length.
   */
  private appendRun(ids: Uint32Array): number {
    const open = (this.open ??= this.openShard());
    const n = Math.min(ids.length, this.staged.length - this.stagedCount, this.buffer.length - this.buffered, this.capacity - open.tokens);
    const run = ids.subarray(0, n);
    this.staged.set(run, this.stagedCount);
    this.buffer.set(run, this.buffered);
    this.stagedCount += n;
    this.buffered += n;
    this.streamTokens += n;
    open.tokens += n;
    if (this.stagedCount === this.staged.length) this.hashStaged();
    if (this.buffered === this.buffer.length) this.flush();
    if (open.tokens === this.capacity) this.nextShard(ids[n - 1]!);
    return n;
  }

  private appendOne(token: number): void {
    this.streamTokens += 1;
    this.staged[this.stagedCount++] = token;
    if (this.stagedCount === this.staged.length) this.hashStaged();
    if (this.streamTokens === this.checkAt) this.checkPrefix();
    if (this.opts.complete && this.streamTokens > this.checkAt) throw this.changed('the input holds more than the finished run');
    if (this.skip > 0) {
      this.skip -= 1;
      return;
    }
    this.open ??= this.openShard();
    this.put(token);
    if (this.open.tokens === this.capacity) this.nextShard(token);
  }

  private nextShard(last: number): void {
    this.closeShard();
    // The next shard starts with this shard's last token: it is the input of the next window.
    this.open = this.openShard();
    this.put(last);
  }

  private put(token: number): void {
    this.buffer[this.buffered++] = token;
    this.open!.tokens += 1;
    if (this.buffered === this.buffer.length) this.flush();
  }

  private hashStaged(): void {
    this.stream.update(new Uint8Array(this.staged.buffer, 0, this.stagedCount * 4));
    this.stagedCount = 0;
  }

  private streamDigest(): string {
    this.hashStaged();
    return this.stream.copy().digest('hex');
  }

  private checkPrefix(): void {
    const last = this.opts.done[this.opts.done.length - 1];
    if (last?.stream_sha256 && this.streamDigest() !== last.stream_sha256) throw this.changed(`its ${this.opts.split} tokens differ from finished shard ${last.file}`);
  }

  private changed(why: string): DataError {
    return new DataError(`${this.opts.dir}: ${why}; the input is not the one that run read (remove the directory or choose another --out)`);
  }

  /** Closes the last shard, unless it would only hold the token carried over from the previous one. */
  finish(): void {
    if (this.streamTokens < this.checkAt) throw this.changed(`the input ends inside finished ${this.opts.split} shards`);
    if (this.open && this.open.tokens > 1) this.closeShard();
    else if (this.open) this.discardShard();
  }

  private openShard() {
    const file = shardName(this.opts.split, this.index);
    const tmp = join(this.opts.dir, `${file}.tmp`);
    const fd = openSync(tmp, 'w');
    writeSync(fd, Buffer.alloc(HEADER_BYTES));
    return { fd, tmp, file, tokens: 0, hash: createHash('sha256') };
  }

  private flush(): void {
    if (!this.open || this.buffered === 0) return;
    const view = Buffer.from(this.buffer.buffer, 0, this.buffered * this.width);
    writeSync(this.open.fd, view);
    this.open.hash.update(view);
    this.buffered = 0;
  }

  private closeShard(): void {
    const shard = this.open!;
    this.flush();
    const header = encodeHeader({
      bytesPerToken: this.width,
      vocabSize: this.opts.vocabSize,
      tokens: shard.tokens,
      eot: this.opts.eot,
      seqLen: this.opts.seqLen,
      vocabHash: this.opts.vocabHash,
    });
    writeSync(shard.fd, header, 0, HEADER_BYTES, 0);
    closeSync(shard.fd);
    const path = join(this.opts.dir, shard.file);
    renameSync(shard.tmp, path);
    const entry: TokenShardEntry = {
      file: shard.file,
      tokens: shard.tokens,
      windows: Math.max(0, Math.floor((shard.tokens - 1) / this.opts.seqLen)),
      offset: this.offset,
      file_bytes: statSync(path).size,
      // Of the token payload (the header is derived from the manifest's fields).
      sha256: shard.hash.digest('hex'),
      stream_sha256: this.streamDigest(),
    };
    this.offset += shard.tokens - 1;
    this.index += 1;
    this.open = undefined;
    this.opts.onShard(entry);
  }

  private discardShard(): void {
    closeSync(this.open!.fd);
    unlinkSync(this.open!.tmp);
    this.open = undefined;
    this.buffered = 0;
  }
}
