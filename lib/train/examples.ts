// Reading training examples from JSONL for the fine-tuning commands: each record is encoded or
// dropped with a reason. A dropped record stops the run under --on-error fail (with its
// file:line) and goes to --rejects under skip, as the data stages do.
import { DataError } from '../errors.js';
import { locationOf } from '../io/location.js';
import { readDocs } from '../io/read.js';
import type { RejectSink } from '../io/rejects.js';
import type { Doc, OnError } from '../io/types.js';

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
