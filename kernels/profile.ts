// Per-op device time, for finding where a training step's time goes. With LOOM_PROFILE=1 the
// backend's library calls are wrapped: each is followed by a device synchronize and timed, so a
// figure is the op's device time plus one launch and one sync (close for ops above ~20 µs; the
// run as a whole gets slower). Linear layers are told apart by their K×N shape.
import type { NativeLib } from './native.js';

export interface OpTime {
  op: string;
  calls: number;
  ms: number;
}

// bookkeeping calls, not work
const UNTIMED = new Set(['lk_backend', 'lk_last_error', 'lk_device_count', 'lk_device_name', 'lk_init', 'lk_synchronize']);

const SHAPED: Record<string, (args: unknown[]) => string> = {
  lk_linear_fwd: (a) => `${a[5]}x${a[6]}`,
  lk_linear_bwd: (a) => `${a[7]}x${a[8]}`,
};

export class OpProfile {
  private totals = new Map<string, { calls: number; ms: number }>();

  /** A copy of `lib` whose calls are timed into this profile. */
  wrap(lib: NativeLib): NativeLib {
    const timed = { ...lib };
    for (const [name, fn] of Object.entries(lib) as [keyof NativeLib, (...args: unknown[]) => unknown][]) {
      if (UNTIMED.has(name)) continue;
      const label = name.replace(/^lk_/, '');
      timed[name] = (...args: unknown[]) => {
        const started = performance.now();
        const rc = fn(...args);
        lib.lk_synchronize();
        const key = SHAPED[name] ? `${label} ${SHAPED[name](args)}` : label;
        const entry = this.totals.get(key) ?? { calls: 0, ms: 0 };
        entry.calls += 1;
        entry.ms += performance.now() - started;
        this.totals.set(key, entry);
        return rc;
      };
    }
    return timed;
  }

  reset(): void {
    this.totals = new Map();
  }

  /** Totals since the last reset, the most expensive first. */
  report(): OpTime[] {
    return [...this.totals].map(([op, t]) => ({ op, calls: t.calls, ms: t.ms })).sort((a, b) => b.ms - a.ms);
  }
}
