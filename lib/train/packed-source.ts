// Fine-tuning's batch source: packed rows held in memory (SFT and preference sets are small next
// to pretraining corpora), visited in a seeded order per epoch. As with token windows, the
// position is one number, the rows consumed, so a resumed run or any number of ranks sees exactly
// the rows an uninterrupted single-process run would.
import type { PackedRow } from '../chat/pack.js';
import { EpochOrder } from './data.js';
import type { World } from './distributed.js';
import type { BatchSource } from './loop.js';
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

export class PackedRowSource implements BatchSource<NextTokenBatch, number> {
  readonly stepTokens: number;
  private readonly order: EpochOrder;

  constructor(
    private readonly rows: readonly PackedRow[],
    seed: number,
    private readonly shape: { batch: number; accum: number; world: World },
    private consumed = 0,
  ) {
    if (rows.length === 0) throw new Error('packed source: no rows to train on');
    this.order = new EpochOrder(rows.length, seed);
    this.stepTokens = shape.accum * shape.batch * shape.world.size * rows[0]!.ids.length;
  }

  nextStep(): NextTokenBatch[] {
    const { batch, accum, world } = this.shape;
    const first = this.consumed + world.rank * accum * batch;
    const out = Array.from({ length: accum }, (_, m) => packedBatch(Array.from({ length: batch }, (_, i) => this.rows[this.order.index(first + m * batch + i)]!)));
    this.consumed += accum * batch * world.size;
    return out;
  }

  position(): number {
    return this.consumed;
  }
}
