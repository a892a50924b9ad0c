// Documents to token ids, in input order, on `workers` threads (0: this thread). Ids do not depend
// on the number of workers: each document is encoded whole by one deterministic encoder.
import { DataError } from '../errors.js';
import { locationOf } from '../io/location.js';
import { hasText, NO_TEXT } from '../text/no-text.js';
import { carryLine } from '../io/lossless.js';
import type { Doc, OnError } from '../io/types.js';
import { defineStage, type StageContext } from '../stage.js';
import { WorkerPool } from '../util/worker-pool.js';
import type { EncodeInit } from './worker.js';
import type { VocabularySpec } from './vocabulary.js';

export interface EncodeDocsOptions {
  workers: number;
  vocab: VocabularySpec;
  nfc: boolean;
  /**
   * 'fail': a record without a string `text` is an error (eval ppl, where a silent drop would change
   * what is measured). Otherwise, as in every pipeline stage, it is dropped as NO_TEXT.
   */
  onError?: OnError;
}

/** Documents per message to a worker: amortizes messaging without holding much in flight. */
const BATCH = 32;

/** Yields each document with text and its ids; documents without text, or with an empty one, are dropped. */
export async function* encodeDocs(docs: AsyncIterable<Doc>, opts: EncodeDocsOptions, ctx: StageContext): AsyncGenerator<[Doc, Uint32Array]> {
  const pool = new WorkerPool<string, Uint32Array, EncodeInit>(new URL('./worker.js', import.meta.url), {
    workers: opts.workers,
    init: { vocab: opts.vocab, nfc: opts.nfc },
    batchSize: BATCH,
  });
  const queue: Doc[] = [];
  async function* texts(): AsyncGenerator<string> {
    for await (const doc of docs) {
      if (!hasText(doc)) {
        if (opts.onError === 'fail') throw new DataError('no "text" string field', locationOf(doc));
        ctx.drop(doc, NO_TEXT);
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
  { workers: 0, vocab: {}, nfc: true },
  async function* (docs, opts, ctx) {
    for await (const [doc, ids] of encodeDocs(docs, opts, ctx)) {
      const { text: _text, ...rest } = doc;
      ctx.count('tokens', ids.length);
      yield carryLine(doc, { ...rest, tokens: Array.from(ids) });
    }
  },
);
