// Training examples for the fine-tuning commands: read from JSONL (each record encoded or dropped
// with a reason: a dropped record stops the run under --on-error fail, with its file:line, and
// goes to --rejects under skip, as the data stages do), split, and served a step at a time. They
// are held in memory (SFT and preference sets are small next to pretraining corpora) and visited
// in a seeded order per epoch; as with token windows, the position is one number, the examples
// consumed, so a resumed run or any number of ranks sees exactly what an uninterrupted
// single-process run would.
import { DataError } from '../errors.js';
import { locationOf } from '../io/location.js';
import { readDocs } from '../io/read.js';
import type { RejectSink } from '../io/rejects.js';
import type { Doc, OnError } from '../io/types.js';
import { EpochOrder } from './data.js';
import type { World } from './distributed.js';
import type { BatchSource } from './loop.js';

export interface ExampleReadOptions {
  onError: OnError;
  rejects?: RejectSink;
  log: (line: string) => void;
  /** The command, in --rejects entries. */
  stage: string;
}

export async function readExamples<T>(inputs: string[], encode: (doc: Doc) => T | { drop: string }, o: ExampleReadOptions): Promise<{ examples: T[]; dropped: number }> {
  const examples: T[] = [];
  let dropped = 0;
  for await (const doc of readDocs(inputs, { onError: o.onError, rejects: o.rejects, warn: o.log })) {
    const example = encode(doc);
    if (example && typeof example === 'object' && 'drop' in example) {
      const loc = locationOf(doc);
      if (o.onError === 'fail') throw new DataError(`${loc ? `${loc.file}:${loc.line}` : inputs.join(' ')}: ${example.drop} (--on-error skip drops such records)`);
      dropped += 1;
      o.rejects?.addDoc(doc, example.drop, o.stage, loc);
      continue;
    }
    examples.push(example as T);
  }
  return { examples, dropped };
}

/** A seeded split: each example lands in val with probability `fraction`. */
export function splitExamples<T>(examples: T[], fraction: number, random: { next(): number }): { train: T[]; val: T[] } {
  const out = { train: [] as T[], val: [] as T[] };
  for (const e of examples) out[random.next() < fraction ? 'val' : 'train'].push(e);
  return out;
}

/** `batch` examples a micro-batch per rank, `accum` micro-batches a step; rank r takes the r-th slice of a step. */
export class ExampleSource<T, B> implements BatchSource<B, number> {
  private readonly order: EpochOrder;

  constructor(
    private readonly examples: readonly T[],
    seed: number,
    private readonly shape: { batch: number; accum: number; world: World },
    /** Examples of one micro-batch into the objective's batch. */
    private readonly toBatch: (examples: T[]) => B,
    readonly stepTokens: number,
    private consumed = 0,
  ) {
    if (examples.length === 0) throw new Error('no examples to train on');
    this.order = new EpochOrder(examples.length, seed);
  }

  nextStep(): B[] {
    const { batch, accum, world } = this.shape;
    const first = this.consumed + world.rank * accum * batch;
    const out = Array.from({ length: accum }, (_, m) => this.toBatch(Array.from({ length: batch }, (_, i) => this.examples[this.order.index(first + m * batch + i)]!)));
    this.consumed += accum * batch * world.size;
    return out;
  }

  position(): number {
    return this.consumed;
  }
}
