// Review by hand (`loom review`): a seeded random sample of documents, labelled one at a time, each
// label appended at once to a JSONL file that `loom score train --label-field label` reads. The file
// is the session's state: a rerun of the same command skips the documents it already labels.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { DataError } from '../errors.js';
import { carryLine } from '../io/lossless.js';
import type { Doc } from '../io/types.js';
import { jsonLine } from '../io/write.js';
import { hasText } from '../text/no-text.js';
import { ShuffleBuffer } from '../tokenizer/shuffle.js';
import { sample } from './sample.js';

export const REVIEW_LABELS = ['good', 'bad', 'offensive'] as const;
export type ReviewLabel = (typeof REVIEW_LABELS)[number];

/** Which document a label belongs to, across runs: its `id`, or a hash of its text where it has none. */
export function reviewKey(doc: Doc): string {
  if (typeof doc.id === 'string' || typeof doc.id === 'number') return `id:${doc.id}`;
  return `text:${createHash('sha256').update(String(doc.text ?? '')).digest('hex').slice(0, 32)}`;
}

/** Where a label was written, so that it can be taken back. */
export interface LabelWrite {
  key: string;
  /** The file's length before the label was appended. */
  offset: number;
}

/**
 * The labels file, append-only: one record per label, the document as it was read (text, scores,
 * flags, every other field) plus `labelField`. An undo truncates the file back to before its
 * last label. Each label is flushed to disk before the next key is read.
 */
export class LabelStore {
  private constructor(
    readonly path: string,
    readonly labelField: string,
    private readonly fd: number,
    private readonly keys: Set<string>,
  ) {}

  /** Opens (or creates) the file and reads the labels it holds; a torn last line (a crash mid-write) is cut off. */
  static open(path: string, labelField = 'label'): LabelStore {
    const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
    const complete = text.lastIndexOf('\n') + 1;
    const keys = new Set<string>();
    text
      .slice(0, complete)
      .split('\n')
      .forEach((line, i) => {
        if (line.trim() === '') return;
        let record: unknown;
        try {
          record = JSON.parse(line);
        } catch (err) {
          throw new DataError(`not a label record: ${(err as Error).message}`, { file: path, line: i + 1 });
        }
        keys.add(reviewKey(record as Doc));
      });
    const fd = openSync(path, 'a');
    if (complete < text.length) ftruncateSync(fd, Buffer.byteLength(text.slice(0, complete)));
    return new LabelStore(path, labelField, fd, keys);
  }

  /** Labels in the file. */
  get size(): number {
    return this.keys.size;
  }

  has(doc: Doc): boolean {
    return this.keys.has(reviewKey(doc));
  }

  append(doc: Doc, label: ReviewLabel): LabelWrite {
    const write = { key: reviewKey(doc), offset: fstatSync(this.fd).size };
    // A copy with the label: the document itself stays as read, for a relabel after an undo.
    writeSync(this.fd, jsonLine(carryLine(doc, { ...doc, [this.labelField]: label })));
    fsyncSync(this.fd);
    this.keys.add(write.key);
    return write;
  }

  /** Takes back the last label appended (only the last: the file is cut back to before it). */
  undo(write: LabelWrite): void {
    ftruncateSync(this.fd, write.offset);
    fsyncSync(this.fd);
    this.keys.delete(write.key);
  }

  close(): void {
    closeSync(this.fd);
  }
}

export interface ReviewQueueOptions {
  /** The sample's size: a rerun with the same -n and seed draws the same documents. */
  n: number;
  seed: number;
  store: LabelStore;
}

/**
 * The documents to review: a uniform random sample of `n` documents with text (seeded; O(n)
 * memory), shuffled so that any first part of it is a random sample too, less those the store
 * already labels. `sampled` counts the whole sample.
 */
export async function reviewQueue(docs: AsyncIterable<Doc>, opts: ReviewQueueOptions): Promise<{ queue: Doc[]; sampled: number }> {
  const shuffle = new ShuffleBuffer<Doc>(opts.n, opts.seed);
  let sampled = 0;
  for await (const doc of sample(withText(docs), { n: opts.n, seed: opts.seed })) {
    shuffle.push(doc);
    sampled += 1;
  }
  return { queue: [...shuffle.drain()].filter((doc) => !opts.store.has(doc)), sampled };
}

async function* withText(docs: AsyncIterable<Doc>): AsyncGenerator<Doc> {
  for await (const doc of docs) if (hasText(doc)) yield doc;
}

type Action = { index: number; label: ReviewLabel; write: LabelWrite } | { index: number; label: 'skip' };

/** One review session over a queue: where it is, what was done (to undo it), and the counts. */
export class ReviewSession {
  index = 0;
  private readonly history: Action[] = [];
  readonly counts: Record<ReviewLabel | 'skip', number> = { good: 0, bad: 0, offensive: 0, skip: 0 };

  constructor(
    readonly queue: readonly Doc[],
    readonly store: LabelStore,
  ) {}

  get current(): Doc | undefined {
    return this.queue[this.index];
  }

  get done(): boolean {
    return this.index >= this.queue.length;
  }

  /** Labels the current document and moves on. */
  mark(label: ReviewLabel): void {
    const doc = this.current;
    if (!doc) return;
    this.history.push({ index: this.index, label, write: this.store.append(doc, label) });
    this.counts[label] += 1;
    this.index += 1;
  }

  /** Moves on without a label (a rerun shows the document again). */
  skip(): void {
    if (this.done) return;
    this.history.push({ index: this.index, label: 'skip' });
    this.counts.skip += 1;
    this.index += 1;
  }

  /** Takes back the last label or skip and returns to that document; false when there is nothing to undo. */
  undo(): boolean {
    const last = this.history.pop();
    if (!last) return false;
    if (last.label !== 'skip') this.store.undo(last.write);
    this.counts[last.label] -= 1;
    this.index = last.index;
    return true;
  }
}
