// Training batches from token shards in a seeded order. The data position is one number, the
// count of windows consumed, so a resumed run (or any number of ranks) sees exactly the windows an
// uninterrupted single-process run would: window o of the run is permutation_epoch(o mod W).
import { DataError } from '../errors.js';
import { TokenDataset } from '../shards/dataset.js';
import type { Split } from '../shards/manifest.js';
import { createRandom } from '../util/random.js';
import type { World } from './distributed.js';
import type { BatchSource } from './loop.js';
import type { NextTokenBatch } from './next-token.js';

/** Seeded Fisher-Yates permutation of 0..n-1 for one epoch. */
export function epochPermutation(n: number, seed: number, epoch: number): Uint32Array {
  const random = createRandom((seed + Math.imul(epoch + 1, 0x9e3779b1)) >>> 0);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = random.int(i + 1);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

export function openSplit(dir: string, split: Split, seqLen: number, vocabHash?: string): TokenDataset {
  const dataset = new TokenDataset(dir, { split, seqLen, vocabHash });
  if (dataset.windowCount === 0 && split === 'train')
    throw new DataError(`${dir}: the train split holds no window of ${seqLen + 1} tokens; tokenize more text or lower --seq-len`);
  return dataset;
}

/** Fills a micro-batch from windows: inputs are tokens [0, T), targets [1, T]. */
export function fillBatch(windows: Uint32Array[], seqLen: number, vocabIds: number, where: string): NextTokenBatch {
  const ids = new Int32Array(windows.length * seqLen);
  const targets = new Int32Array(windows.length * seqLen);
  windows.forEach((w, b) => {
    for (let t = 0; t < seqLen; t++) {
      const id = w[t]!, next = w[t + 1]!;
      if (id >= vocabIds || next >= vocabIds) throw new DataError(`${where}: token id ${Math.max(id, next)} is outside the model's vocabulary (${vocabIds} rows)`);
      ids[b * seqLen + t] = id;
      targets[b * seqLen + t] = next;
    }
  });
  return { ids, targets, rows: windows.length, seqLen };
}

/** The o-th item of a run over n items, for any o: epoch e visits them in permutation_e order. */
export class EpochOrder {
  private epoch = -1;
  private order: Uint32Array = new Uint32Array(0);

  constructor(
    readonly n: number,
    readonly seed: number,
  ) {}

  index(ordinal: number): number {
    const epoch = Math.floor(ordinal / this.n);
    if (epoch !== this.epoch) {
      this.order = epochPermutation(this.n, this.seed, epoch);
      this.epoch = epoch;
    }
    return this.order[ordinal % this.n]!;
  }
}

/** The training stream: the o-th window of the run, for any o, in the seeded epoch order. */
export class TrainStream {
  private readonly order: EpochOrder;

  constructor(
    readonly dataset: TokenDataset,
    readonly seed: number,
  ) {
    this.order = new EpochOrder(dataset.windowCount, seed);
  }

  windowIndex(ordinal: number): number {
    return this.order.index(ordinal);
  }

  /** Windows [start, start+count) of the run as one micro-batch. */
  batch(start: number, count: number, vocabIds: number): NextTokenBatch {
    const windows: Uint32Array[] = [];
    for (let o = start; o < start + count; o++) windows.push(this.dataset.window(this.windowIndex(o)));
    return fillBatch(windows, this.dataset.seqLen, vocabIds, `${this.dataset.dir} (train)`);
  }
}

/**
 * Pretraining's batch source: each step takes `accum` micro-batches of `batch` windows per rank,
 * rank r the r-th slice of the step's windows. Its position is the count of windows consumed.
 */
export class WindowSource implements BatchSource<NextTokenBatch, number> {
  readonly stepTokens: number;
  private readonly stream: TrainStream;

  constructor(
    dataset: TokenDataset,
    seed: number,
    private readonly shape: { batch: number; accum: number; world: World; vocabIds: number },
    private consumed = 0,
  ) {
    this.stream = new TrainStream(dataset, seed);
    this.stepTokens = shape.accum * shape.batch * shape.world.size * dataset.seqLen;
  }

  nextStep(): NextTokenBatch[] {
    const { batch, accum, world, vocabIds } = this.shape;
    const first = this.consumed + world.rank * accum * batch;
    const out = Array.from({ length: accum }, (_, m) => this.stream.batch(first + m * batch, batch, vocabIds));
    this.consumed += accum * batch * world.size;
    return out;
  }

  position(): number {
    return this.consumed;
  }
}
