// Device names (`--device`): parsed without loading a kernel library, so flags can be checked
// before any native code is touched.
import type { BackendKind } from './native.js';

/** Parses `cpu`, `cuda`, `cuda:N`, `auto` (or undefined = auto). */
export function parseDevice(spec: string | undefined): { kind: BackendKind | 'auto'; index: number } {
  const s = (spec ?? 'auto').trim().toLowerCase();
  if (s === 'auto' || s === 'cpu') return { kind: s, index: 0 };
  const m = /^cuda(?::(\d+))?$/.exec(s);
  if (!m) throw new Error(`kernels: unknown device '${spec}' (expected cpu, cuda, cuda:N or auto)`);
  return { kind: 'cuda', index: m[1] ? Number(m[1]) : 0 };
}
