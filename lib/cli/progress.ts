import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { detectCompression } from '../io/compression.js';

/** What progress displays show: a snapshot of counters, taken whenever they redraw. */
export interface ProgressSnapshot {
  label: string;
  records: number;
  bytes: number;
  /** What `bytes` reaches at the end, when the inputs' sizes say so: gives a percentage and an ETA. */
  totalBytes?: number;
  out: number;
  /** Lines that were not records: the run summary's "rejected lines". */
  rejected: number;
  /** Records the stage dropped: the run summary's "dropped". */
  dropped: number;
  /** Extra counters (pages skipped, clusters…), shown after the standard ones. */
  extra?: Record<string, number>;
}

export interface ProgressDisplay {
  stop(): Promise<void>;
}

export type ProgressMode = 'auto' | 'json' | 'none';

export const PROGRESS_INTERVAL_MS = 1000;

/** Starts the display `mode` asks for; `auto` shows the ink status line only on a TTY outside CI. */
export async function startProgress(mode: ProgressMode, snapshot: () => ProgressSnapshot, quiet: boolean): Promise<ProgressDisplay> {
  if (quiet || mode === 'none') return { stop: async () => {} };
  if (mode === 'json') return startJsonProgress(snapshot);
  if (!process.stderr.isTTY || process.env.CI) return { stop: async () => {} };
  const { startStatusLine } = await import('../ui/progress.js');
  return startStatusLine(snapshot);
}

/**
 * What a reader's byte counter reaches over `sources`, when that is known beforehand: a source's
 * `size` where its reader counts the bytes as stored (extract's WARC and HTML files), else the size
 * of a file that is not compressed (JSONL readers count decompressed bytes). Undefined for stdin,
 * compressed JSONL, or inputs that cannot be resolved (the reader reports those).
 */
export async function countedBytes(sources: Promise<readonly { name: string; size?: number }[]>): Promise<number | undefined> {
  try {
    let total = 0;
    for (const source of await sources) {
      const size = source.size ?? uncompressedFileSize(source.name);
      if (size === undefined) return undefined;
      total += size;
    }
    return total;
  } catch {
    return undefined;
  }
}

function uncompressedFileSize(path: string): number | undefined {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat?.isFile()) return undefined;
  const head = Buffer.alloc(4);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  return detectCompression(head) === 'none' ? stat.size : undefined;
}

export function progressRecord(snap: ProgressSnapshot, elapsedMs: number, final = false) {
  const seconds = elapsedMs / 1000;
  return {
    progress: snap.label,
    elapsed_s: round(seconds, 3),
    records: snap.records,
    out: snap.out,
    rejected: snap.rejected,
    dropped: snap.dropped,
    bytes: snap.bytes,
    ...(snap.totalBytes !== undefined ? { total_bytes: snap.totalBytes } : {}),
    records_per_s: round(snap.records / Math.max(seconds, 1e-9), 1),
    mb_per_s: round(snap.bytes / 1e6 / Math.max(seconds, 1e-9), 2),
    ...snap.extra,
    ...(final ? { done: true } : {}),
  };
}

function startJsonProgress(snapshot: () => ProgressSnapshot): ProgressDisplay {
  const start = performance.now();
  const emit = (final: boolean) => process.stderr.write(JSON.stringify(progressRecord(snapshot(), performance.now() - start, final)) + '\n');
  const timer = setInterval(() => emit(false), PROGRESS_INTERVAL_MS);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      emit(true);
    },
  };
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
