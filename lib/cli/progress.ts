/** What progress displays show: a snapshot of counters, taken whenever they redraw. */
export interface ProgressSnapshot {
  label: string;
  records: number;
  bytes: number;
  out: number;
  rejected: number;
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

export function progressRecord(snap: ProgressSnapshot, elapsedMs: number, final = false) {
  const seconds = elapsedMs / 1000;
  return {
    progress: snap.label,
    elapsed_s: round(seconds, 3),
    records: snap.records,
    out: snap.out,
    rejected: snap.rejected,
    bytes: snap.bytes,
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
