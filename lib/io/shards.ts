import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { createEncoder, extensionFor, type Compression } from './compression.js';
import { DataError, UsageError } from '../errors.js';
import { MANIFEST_FORMAT, readManifest, removeStaleTemporaries, verifiedShards, writeManifest, type ShardManifest } from './manifest.js';
import type { Doc } from './types.js';
import { jsonLine, writeWithBackpressure, WriteCounters } from './write.js';
import { VERSION } from '../version.js';

/** When to start a new shard: after so many records, or so many uncompressed bytes. */
export type ShardSize = { records: number } | { bytes: number };

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** Parses `--shard-size`: a plain number counts records; `64MB`, `1GiB`… count uncompressed bytes. */
export function parseShardSize(text: string): ShardSize {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = match?.[2]?.toLowerCase() ?? '';
  if (!match || (unit !== '' && !(unit in SIZE_UNITS))) {
    throw new UsageError(`--shard-size: expected a record count or a size like 256MB, got "${text}"`);
  }
  const value = Number(match[1]);
  if (unit === '') {
    if (!Number.isInteger(value) || value < 1) throw new UsageError(`--shard-size: record count must be a positive integer`);
    return { records: value };
  }
  return { bytes: Math.max(1, Math.round(value * SIZE_UNITS[unit]!)) };
}

export interface ShardWriterOptions {
  dir: string;
  size: ShardSize;
  compression: Compression;
  /** Everything that makes a run "the same run" for resuming; written into the manifest. */
  run: Pick<ShardManifest, 'command' | 'fingerprint' | 'inputs' | 'config' | 'seed'>;
  /** Counts to record in the manifest, read when each shard closes and at the end. */
  counts?: () => Record<string, number>;
}

export interface ShardWriteResult {
  manifest: ShardManifest;
  /** Records that were consumed but not rewritten because their shard was already complete. */
  skippedRecords: number;
  alreadyComplete: boolean;
}

const INTERRUPT_SIGNALS = { SIGINT: 130, SIGTERM: 143 } as const;

/**
 * While a command writes resumable output into `dir`, Ctrl-C (or SIGTERM) ends it with a message
 * that says the work is not lost, and the shell's exit code for the signal (130, 143). Finished
 * shards stay listed in the manifest; the unfinished one is a `.tmp` that a rerun removes.
 * Returns the function that removes the handlers.
 */
export function reportInterrupts(command: string, dir: string): () => void {
  const handlers = Object.entries(INTERRUPT_SIGNALS).map(([signal, code]) => {
    const handler = () => {
      process.stderr.write(`loom ${command}: interrupted; rerun the same command to resume (finished shards in ${dir} are kept)\n`);
      process.exit(code);
    };
    process.once(signal, handler);
    return () => process.off(signal, handler);
  });
  return () => handlers.forEach((remove) => remove());
}

export function shardFileName(index: number, compression: Compression): string {
  return `shard-${String(index).padStart(5, '0')}.jsonl${extensionFor(compression)}`;
}

/**
 * Writes documents into rotating shard files plus manifest.json. Each shard is written as
 * `*.tmp` and renamed when complete, then the manifest is rewritten, so the directory always
 * describes only finished shards. A rerun of the same run consumes the input up to the end of the
 * finished shards without writing, and carries on from there: no loss, no duplicates.
 */
export async function writeShards(docs: AsyncIterable<Doc>, opts: ShardWriterOptions, counters = new WriteCounters()): Promise<ShardWriteResult> {
  mkdirSync(opts.dir, { recursive: true });
  const previous = readManifest(opts.dir);
  if (previous && previous.fingerprint !== opts.run.fingerprint) {
    throw new UsageError(
      `${opts.dir} holds the output of a different run (its manifest.json has other arguments or inputs); ` +
        'remove it or choose another --out',
    );
  }
  // File inputs are identified by the fingerprint (name, size, mtime); stdin is not, so its records
  // are checked against what the finished shards hold.
  const fromStdin = opts.run.inputs.some((input) => input.path === '-');
  if (previous?.complete && !fromStdin) return { manifest: previous, skippedRecords: 0, alreadyComplete: true };
  removeStaleTemporaries(opts.dir);
  const done = previous ? verifiedShards(opts.dir, previous.shards) : [];
  const now = new Date().toISOString();
  const manifest: ShardManifest = {
    format: MANIFEST_FORMAT,
    version: VERSION,
    ...opts.run,
    complete: false,
    created: previous?.created ?? now,
    updated: now,
    counts: {},
    shards: done,
  };

  const iterator = docs[Symbol.asyncIterator]();
  let skippedRecords = 0;
  const changed = (why: string) => new DataError(`${opts.dir}: ${why}; the input is not the one that run read (remove the directory or choose another --out)`);
  for (const shard of done) {
    const content = createHash('sha256');
    for (let i = 0; i < shard.records; i++) {
      const next = await iterator.next();
      if (next.done) throw changed(`input ended inside finished shard ${shard.file}`);
      content.update(jsonLine(next.value));
      skippedRecords += 1;
    }
    if (shard.content_sha256 && content.digest('hex') !== shard.content_sha256) throw changed(`records differ from finished shard ${shard.file}`);
  }
  if (previous?.complete) {
    if (!(await iterator.next()).done) throw changed('input has more records than the finished run');
    return { manifest: previous, skippedRecords, alreadyComplete: true };
  }

  let shard: OpenShard | undefined;
  try {
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      shard ??= openShard(opts.dir, manifest.shards.length, opts.compression);
      await shard.write(jsonLine(next.value));
      counters.records += 1;
      counters.bytes += shard.lastLineBytes;
      if (shardIsFull(shard, opts.size)) {
        await closeShard(shard, manifest, opts);
        shard = undefined;
      }
    }
    if (shard) await closeShard(shard, manifest, opts);
  } catch (err) {
    // The unfinished shard stays a .tmp that no manifest lists; a rerun removes it.
    await shard?.abort();
    throw err;
  }
  manifest.complete = true;
  manifest.updated = new Date().toISOString();
  manifest.counts = { ...opts.counts?.(), records_out: manifest.shards.reduce((n, s) => n + s.records, 0) };
  writeManifest(opts.dir, manifest);
  return { manifest, skippedRecords, alreadyComplete: false };
}

interface OpenShard {
  file: string;
  tmpPath: string;
  records: number;
  bytes: number;
  lastLineBytes: number;
  write(line: string): Promise<void>;
  end(): Promise<{ sha256: string; contentSha256: string; fileBytes: number }>;
  abort(): Promise<void>;
}

const SHARD_BATCH = 64 * 1024;

function openShard(dir: string, index: number, compression: Compression): OpenShard {
  const file = shardFileName(index, compression);
  const tmpPath = join(dir, `${file}.tmp`);
  const fileStream = createWriteStream(tmpPath);
  const hash = createHash('sha256');
  const contentHash = createHash('sha256');
  let fileBytes = 0;
  const encoder = createEncoder(compression);
  const sink: Writable = encoder ?? fileStream;
  // Hash and count exactly the bytes that reach the file.
  const onData = (chunk: Buffer) => {
    hash.update(chunk);
    fileBytes += chunk.length;
  };
  if (encoder) {
    encoder.on('data', (chunk: Buffer) => {
      onData(chunk);
      if (!fileStream.write(chunk)) {
        encoder.pause();
        fileStream.once('drain', () => encoder.resume());
      }
    });
    encoder.on('end', () => fileStream.end());
    encoder.on('error', (err) => fileStream.destroy(err));
  }
  let pending = '';
  const flush = async () => {
    if (pending.length === 0) return;
    const data = Buffer.from(pending);
    pending = '';
    contentHash.update(data);
    if (!encoder) onData(data);
    await writeWithBackpressure(sink, data);
  };
  return {
    file,
    tmpPath,
    records: 0,
    bytes: 0,
    lastLineBytes: 0,
    async write(line: string) {
      this.lastLineBytes = Buffer.byteLength(line);
      this.records += 1;
      this.bytes += this.lastLineBytes;
      pending += line;
      if (pending.length >= SHARD_BATCH) await flush();
    },
    async end() {
      await flush();
      if (encoder) encoder.end();
      else fileStream.end();
      await finished(fileStream);
      return { sha256: hash.digest('hex'), contentSha256: contentHash.digest('hex'), fileBytes };
    },
    async abort() {
      encoder?.destroy();
      fileStream.destroy();
      await finished(fileStream).catch(() => {});
    },
  };
}

function shardIsFull(shard: OpenShard, size: ShardSize): boolean {
  return 'records' in size ? shard.records >= size.records : shard.bytes >= size.bytes;
}

async function closeShard(shard: OpenShard, manifest: ShardManifest, opts: ShardWriterOptions): Promise<void> {
  const { sha256, contentSha256, fileBytes } = await shard.end();
  renameSync(shard.tmpPath, join(opts.dir, shard.file));
  manifest.shards.push({ file: shard.file, records: shard.records, bytes: shard.bytes, file_bytes: fileBytes, sha256, content_sha256: contentSha256 });
  manifest.updated = new Date().toISOString();
  manifest.counts = { ...opts.counts?.() };
  writeManifest(opts.dir, manifest);
}
