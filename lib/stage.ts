import { locationOf } from './io/location.js';
import type { RejectSink } from './io/rejects.js';
import type { Doc } from './io/types.js';

/**
 * Per-stage counters, datatrove style: records in and out, drops by reason, and whatever else the
 * stage counts (pages skipped, clusters found…).
 */
export class StageCounters {
  in = 0;
  out = 0;
  dropped = 0;
  readonly dropReasons: Record<string, number> = {};
  readonly extra: Record<string, number> = {};

  toJSON(): Record<string, unknown> {
    return { in: this.in, out: this.out, dropped: this.dropped, drop_reasons: this.dropReasons, ...this.extra };
  }
}

/** What a stage body gets besides its input: counters and a way to drop a record with a reason. */
export interface StageContext {
  readonly name: string;
  readonly counters: StageCounters;
  count(key: string, n?: number): void;
  /** Drops a record: counted under `reason` and written verbatim to the rejects sink, if any. */
  drop(doc: Doc, reason: string): void;
}

/** Options every stage accepts. */
export interface CommonStageOptions {
  rejects?: RejectSink;
}

export type StageBody<O> = (docs: AsyncIterable<Doc>, opts: O, ctx: StageContext) => AsyncIterable<Doc>;

/** The output of a stage: an async iterable of documents that also carries the stage's counters. */
export class StageRun implements AsyncIterable<Doc> {
  readonly counters = new StageCounters();
  private readonly output: AsyncIterable<Doc>;

  constructor(name: string, input: AsyncIterable<Doc>, body: (docs: AsyncIterable<Doc>, ctx: StageContext) => AsyncIterable<Doc>, rejects?: RejectSink) {
    const counters = this.counters;
    const ctx: StageContext = {
      name,
      counters,
      count(key, n = 1) {
        counters.extra[key] = (counters.extra[key] ?? 0) + n;
      },
      drop(doc, reason) {
        counters.dropped += 1;
        counters.dropReasons[reason] = (counters.dropReasons[reason] ?? 0) + 1;
        rejects?.addDoc(doc, reason, name, locationOf(doc));
      },
    };
    this.output = body(countInput(input, counters), ctx);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Doc> {
    for await (const doc of this.output) {
      this.counters.out += 1;
      yield doc;
    }
  }
}

async function* countInput(docs: AsyncIterable<Doc>, counters: StageCounters): AsyncGenerator<Doc> {
  for await (const doc of docs) {
    counters.in += 1;
    yield doc;
  }
}

/** A stage: `(docs, opts) => AsyncIterable<Doc>` (DESIGN.md), with counters on the result. */
export type Stage<O> = ((docs: AsyncIterable<Doc>, opts?: Partial<O> & CommonStageOptions) => StageRun) & { readonly stageName: string };

/** Declares a stage from its body; `defaults` fill whatever options the caller leaves out. */
export function defineStage<O extends object>(name: string, defaults: O, body: StageBody<O>): Stage<O> {
  const stage = (docs: AsyncIterable<Doc>, opts: Partial<O> & CommonStageOptions = {}) => {
    const resolved = { ...defaults, ...opts } as O & CommonStageOptions;
    return new StageRun(name, docs, (input, ctx) => body(input, resolved, ctx), resolved.rejects);
  };
  return Object.assign(stage, { stageName: name });
}
