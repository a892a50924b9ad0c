// Documents to token ids, in input order, on `workers` threads (0: this thread). Ids do not depend
// on the number of workers: each document is encoded whole by one deterministic encoder.
import { DataError } from '../io/errors.js';
import { locationOf } from '../io/location.js';
import type { Doc, OnError } from '../io/types.js';
import { defineStage, type StageContext } from '../stage.js';
import { WorkerPool } from '../util/worker-pool.js';
import type { EncodeInit } from './worker.js';
import type { VocabularySpec } from './vocabulary.js';

export interface EncodeDocsOptions {
  workers: number;
  vocab: VocabularySpec;
  nfc: boolean;
  onError: OnError;
}

/** Documents per message to a worker: amortizes messaging without holding much in flight. */
const BATCH = 32;

/** Yields each document with text and its ids; documents without usable text are dropped or fail. */
export async function* encodeDocs(docs: AsyncIterable<Doc>, opts: EncodeDocsOptions, ctx: StageContext): AsyncGenerator<[Doc, Uint32Array]> {
  const pool = new WorkerPool<string, Uint32Array, EncodeInit>(new URL('./worker.js', import.meta.url), {
    workers: opts.workers,
    init: { vocab: opts.vocab, nfc: opts.nfc },
    batchSize: BATCH,
  });
  const queue: Doc[] = [];
  async function* texts(): AsyncGenerator<string> {
    for await (const doc of docs) {
      if (typeof doc.text !== 'string') {
        const reason = 'no "text" string field';
        if (opts.onError === 'fail') throw new DataError(reason, locationOf(doc));
        ctx.drop(doc, reason);
        continue;
      }
      if (doc.text.length === 0) {
        ctx.drop(doc, 'empty text');
        continue;
      }
      queue.push(doc);
      yield doc.text;
    }
  }
  try {
    for await (const result of pool.map(texts())) {
      const doc = queue.shift()!;
      if (!result.ok) throw new DataError(`cannot tokenize: ${result.error}`, locationOf(doc));
      yield [doc, result.value];
    }
  } finally {
    await pool.close();
  }
}

/** `--format jsonl`: each document with its ids in `tokens` (and without `text`). */
export const tokenizeDocs = defineStage<EncodeDocsOptions>(
  'tokenize',
  { workers: 0, vocab: {}, nfc: true, onError: 'fail' },
  async function* (docs, opts, ctx) {
    for await (const [doc, ids] of encodeDocs(docs, opts, ctx)) {
      const { text: _text, ...rest } = doc;
      ctx.count('tokens', ids.length);
      yield { ...rest, tokens: Array.from(ids) };
    }
  },
);
