// Vocabulary extension (Qwen's recipe): learn new merges on top of fixed base ranks. Training works
// on unique pre-tokenized pieces with weights. Each piece starts as its encoding under the base
// vocabulary (by the real encoder, so training and tiktoken agree from the start); each step
// merges the most frequent adjacent pair into a new token ranked after every existing one.
// Pair counts are updated incrementally, only in the pieces that contain the chosen pair. A piece
// whose bytes are exactly the new token becomes that token (tiktoken's whole-piece lookup).
//
// A pair is keyed by the bytes of its concatenation, because tiktoken merges any adjacent pair
// whose bytes form a token, whatever split produced it. A candidate is refused ("cascade") when
// the merged token would sit next to a neighbour it forms an existing token with: tiktoken would
// then go on merging into a lower-ranked token, which neither this trainer nor a merges-list
// tokenizer (Hugging Face) reproduces.
import { forEachPiece, toJsRegExp } from './pattern.js';
import { Tokenizer } from './tokenizer.js';
import type { Vocabulary } from './vocabulary.js';
import { CountHeap } from './heap.js';
import { qwenSpecialTokens } from './special.js';

/** Longest piece (in UTF-16 units) kept for training; longer ones are rare and mostly junk. */
const MAX_TRAIN_PIECE = 64;

/** Unique pre-tokenized pieces with weights, from running text or `word<TAB>frequency` lists. */
export class PieceCounts {
  readonly counts = new Map<string, number>();
  private readonly regex: RegExp;

  constructor(pattern: string, private readonly nfc = true) {
    this.regex = toJsRegExp(pattern);
  }

  /** Adds every piece of `text`, each with `weight`. */
  add(text: string, weight = 1): void {
    const normalized = this.nfc ? text.normalize('NFC') : text;
    forEachPiece(this.regex, normalized, (start, end) => {
      if (end - start > MAX_TRAIN_PIECE) return;
      const piece = normalized.slice(start, end);
      this.counts.set(piece, (this.counts.get(piece) ?? 0) + weight);
    });
  }
}

export interface TrainOptions {
  /** New tokens to add. */
  merges: number;
  /** Stop when the best pair is seen fewer times than this (default 2). */
  minFrequency?: number;
  onProgress?: (added: number, total: number) => void;
}

export interface TrainResult {
  /** Base tokens followed by the learned ones, by rank. */
  tokens: Uint8Array[];
  added: number;
  /** Candidates refused because tiktoken would cascade into a lower-ranked token. */
  refused: number;
  pieces: number;
  stoppedBecause: 'merges' | 'min-frequency' | 'no-pairs';
}

export function trainMerges(pieces: PieceCounts, base: Vocabulary, opts: TrainOptions): TrainResult {
  const minFrequency = opts.minFrequency ?? 2;
  const strings = base.tokens.map((token) => Buffer.from(token).toString('latin1'));
  const ids = new Map<string, number>();
  strings.forEach((s, id) => ids.set(s, id));

  const words: number[][] = [];
  const weights: number[] = [];
  // tiktoken returns a piece that is itself a token as that token, without merging.
  const wordByBytes = new Map<string, number>();
  const tokenizer = new Tokenizer(base, { nfc: false });
  try {
    for (const [piece, weight] of pieces.counts) {
      wordByBytes.set(Buffer.from(piece, 'utf8').toString('latin1'), words.length);
      words.push(Array.from(tokenizer.encodeOrdinary(piece)));
      weights.push(weight);
    }
  } finally {
    tokenizer.free();
  }

  const counts = new Map<string, number>();
  const where = new Map<string, number[]>();
  const heap = new CountHeap();
  const touched = new Set<string>();
  const addPairs = (w: number, sign: number) => {
    const word = words[w]!;
    for (let i = 0; i + 1 < word.length; i++) {
      const key = strings[word[i]!]! + strings[word[i + 1]!]!;
      counts.set(key, (counts.get(key) ?? 0) + sign * weights[w]!);
      touched.add(key);
      if (sign > 0) {
        const list = where.get(key);
        if (list) {
          if (list[list.length - 1] !== w) list.push(w);
        } else where.set(key, [w]);
      }
    }
  };
  const flushTouched = () => {
    for (const key of touched) {
      const count = counts.get(key)!;
      if (count > 0) heap.push(count, key);
      else {
        counts.delete(key);
        where.delete(key);
      }
    }
    touched.clear();
  };
  for (let w = 0; w < words.length; w++) addPairs(w, 1);
  flushTouched();

  const refused = new Set<string>();
  const stamp = new Int32Array(words.length).fill(-1);
  let added = 0;
  let attempt = 0;
  let stoppedBecause: TrainResult['stoppedBecause'] = 'no-pairs';
  while (added < opts.merges) {
    const top = heap.pop();
    if (!top) break;
    const { key, count } = top;
    if (counts.get(key) !== count || refused.has(key)) continue;
    if (count < minFrequency) {
      stoppedBecause = 'min-frequency';
      break;
    }
    const changes = mergedWords(key, where.get(key) ?? [], words, strings, ids, stamp, attempt++);
    if (changes === 'cascade') {
      refused.add(key);
      continue;
    }
    const newId = strings.length;
    strings.push(key);
    ids.set(key, newId);
    for (const [w, next] of changes) {
      addPairs(w, -1);
      words[w] = next.map((t) => (t === -1 ? newId : t));
      addPairs(w, 1);
    }
    const whole = wordByBytes.get(key);
    if (whole !== undefined && words[whole]!.length > 1) {
      addPairs(whole, -1);
      words[whole] = [newId];
    }
    counts.delete(key);
    where.delete(key);
    touched.delete(key);
    flushTouched();
    added += 1;
    if (added % 1000 === 0) opts.onProgress?.(added, opts.merges);
  }
  if (added === opts.merges) stoppedBecause = 'merges';
  const tokens = [...base.tokens, ...strings.slice(base.tokens.length).map((s) => new Uint8Array(Buffer.from(s, 'latin1')))];
  return { tokens, added, refused: refused.size, pieces: words.length, stoppedBecause };
}

/**
 * The words containing `key` after merging it (the new token as -1), leftmost first as tiktoken
 * does, or 'cascade' if a merged token would form an existing token with a neighbour.
 */
function mergedWords(
  key: string,
  candidates: number[],
  words: number[][],
  strings: string[],
  ids: Map<string, number>,
  stamp: Int32Array,
  round: number,
): [number, number[]][] | 'cascade' {
  const changes: [number, number[]][] = [];
  for (const w of candidates) {
    if (stamp[w] === round) continue;
    stamp[w] = round;
    const word = words[w]!;
    const next: number[] = [];
    let merged = false;
    for (let i = 0; i < word.length; i++) {
      const a = strings[word[i]!]!;
      if (i + 1 < word.length && a.length + strings[word[i + 1]!]!.length === key.length && a + strings[word[i + 1]!]! === key) {
        next.push(-1);
        merged = true;
        i += 1;
      } else next.push(word[i]!);
    }
    if (!merged) continue;
    for (let i = 0; i < next.length; i++) {
      if (next[i] !== -1) continue;
      const left = i > 0 ? next[i - 1]! : undefined;
      const right = i + 1 < next.length ? next[i + 1]! : undefined;
      if (left !== undefined && ids.has((left === -1 ? key : strings[left]!) + key)) return 'cascade';
      if (right !== undefined && ids.has(key + (right === -1 ? key : strings[right]!))) return 'cascade';
    }
    changes.push([w, next]);
  }
  return changes;
}

export interface TrainingCheck {
  /** Pieces whose encoding under the new vocabulary differs from the trainer's segmentation. */
  mismatches: number;
  /** New tokens that are not the concatenation of two lower-ranked tokens. */
  unsplittable: number;
}

/**
 * Checks a trained vocabulary: every new token splits into two lower-ranked tokens, and the WASM
 * encoder segments every training piece exactly as the trainer's replay of the merges does.
 */
export function checkTraining(result: TrainResult, pieces: PieceCounts, base: Vocabulary): TrainingCheck {
  const strings = result.tokens.map((t) => Buffer.from(t).toString('latin1'));
  const rank = new Map<string, number>();
  strings.forEach((s, id) => rank.set(s, id));
  let unsplittable = 0;
  for (let id = base.tokens.length; id < strings.length; id++) {
    const s = strings[id]!;
    let ok = false;
    for (let cut = 1; cut < s.length && !ok; cut++) ok = (rank.get(s.slice(0, cut)) ?? Infinity) < id && (rank.get(s.slice(cut)) ?? Infinity) < id;
    if (!ok) unsplittable += 1;
  }
  const vocab: Vocabulary = { ...base, name: 'trained', tokens: result.tokens, specials: qwenSpecialTokens(result.tokens.length), rankText: undefined };
  const trained = new Tokenizer(vocab, { nfc: false });
  const baseTokenizer = new Tokenizer(base, { nfc: false });
  let mismatches = 0;
  try {
    for (const piece of pieces.counts.keys()) {
      const whole = rank.get(Buffer.from(piece, 'utf8').toString('latin1'));
      const expected = whole !== undefined ? [whole] : replayMerges(baseTokenizer.encodeOrdinary(piece), strings, rank);
      const actual = trained.encodeOrdinary(piece);
      if (expected.length !== actual.length || expected.some((id, i) => id !== actual[i])) mismatches += 1;
    }
  } finally {
    trained.free();
    baseTokenizer.free();
  }
  return { mismatches, unsplittable };
}

/** Applies new merges in rank order to a base encoding (the trainer's model of tiktoken). */
function replayMerges(start: Uint32Array, strings: string[], rank: Map<string, number>): number[] {
  const word = Array.from(start);
  for (;;) {
    let best = Infinity;
    let at = -1;
    for (let i = 0; i + 1 < word.length; i++) {
      const r = rank.get(strings[word[i]!]! + strings[word[i + 1]!]!);
      if (r !== undefined && r < best) {
        best = r;
        at = i;
      }
    }
    if (at === -1) return word;
    word.splice(at, 2, best);
  }
}
