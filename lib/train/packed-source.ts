// Packed SFT rows (lib/chat/pack.ts) as the next-token objective's micro-batches.
import type { PackedRow } from '../chat/pack.js';
import type { NextTokenBatch } from './next-token.js';

/** Packed rows of one length as one micro-batch. */
export function packedBatch(rows: readonly PackedRow[]): NextTokenBatch {
  const T = rows[0]!.ids.length;
  const ids = new Int32Array(rows.length * T), targets = new Int32Array(rows.length * T), positions = new Int32Array(rows.length * T);
  rows.forEach((r, b) => {
    ids.set(r.ids, b * T);
    targets.set(r.targets, b * T);
    positions.set(r.positions, b * T);
  });
  return { ids, targets, positions, rows: rows.length, seqLen: T, segments: rows.map((r) => r.segments) };
}
