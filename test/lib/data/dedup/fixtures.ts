// Documents for the dedup tests: deterministic pseudo-English text with planted near-duplicates.
import { createRandom } from '../../../../lib/util/random.js';
import type { Doc } from '../../../../lib/io/types.js';

const VOCABULARY = Array.from({ length: 3000 }, (_, i) => `w${i.toString(36)}`);

export function randomText(seed: number, words: number): string {
  const random = createRandom(seed);
  return Array.from({ length: words }, () => VOCABULARY[random.int(VOCABULARY.length)]).join(' ');
}

/** Replaces `edits` random words of `text`. */
export function edit(text: string, edits: number, seed: number): string {
  const random = createRandom(seed);
  const words = text.split(' ');
  for (let e = 0; e < edits; e++) words[random.int(words.length)] = `edit${random.int(1e6)}`;
  return words.join(' ');
}

/** `n` documents: ~40% are edited copies (1–3 words changed) or exact copies of earlier ones. */
export function corpus(n: number, seed = 1): Doc[] {
  const random = createRandom(seed);
  const docs: Doc[] = [];
  for (let i = 0; i < n; i++) {
    const pick = random.next();
    let text: string;
    if (i > 0 && pick < 0.3) text = edit(docs[random.int(docs.length)]!.text!, 1 + random.int(3), seed * 1000 + i);
    else if (i > 0 && pick < 0.4) text = docs[random.int(docs.length)]!.text!.toUpperCase();
    else text = randomText(seed * 7919 + i, 80 + random.int(200));
    docs.push({ id: `d${i}`, text, scores: { q: random.next() } });
  }
  return docs;
}

export async function* stream<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) yield structuredClone(item);
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
