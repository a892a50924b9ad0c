// SFT examples into fixed-length training rows. Packing puts several conversations in one row
// (greedy first-fit, in input order, so the same examples always give the same rows); the trainer
// keeps attention inside each segment and the positions restart at each one, so a packed row
// trains exactly as its conversations would one by one. Without packing each conversation gets a
// row of its own, padded.
import type { SftExample } from './sft-examples.js';

export interface PackedRow {
  ids: Int32Array;
  /** Next-token targets: targets[t] is the token t+1 when it carries loss and is in the same conversation, else -1. */
  targets: Int32Array;
  /** Restart at 0 for each conversation (and for the padding). */
  positions: Int32Array;
  /** Lengths of the conversations (and a final padding segment) in order, summing to seqLen. */
  segments: number[];
}

export interface SftPackOptions {
  /** false: one conversation per row, padded. */
  pack: boolean;
  padId: number;
}

export interface PackerOptions extends SftPackOptions {
  /** Rows kept open for later examples to fill (default 64); more packs tighter and holds more memory. */
  window?: number;
}

/** All the rows of `examples`, in the order their first conversation came. */
export function packExamples(examples: SftExample[], seqLen: number, o: SftPackOptions): PackedRow[] {
  const packer = new Packer(seqLen, { ...o, window: Infinity });
  return [...examples.flatMap((example) => packer.add(example)), ...packer.flush()];
}

/**
 * Packing for streams: `add` returns the rows that are finished (none, or some), `flush` the rest.
 * At most `window` rows stay open; opening one more finishes the oldest. Rows come out in the order
 * they were opened. With an unbounded window the rows equal packExamples' (it is one).
 */
export class Packer {
  private readonly open: SftExample[][] = [];
  private readonly free: number[] = [];
  private readonly window: number;

  constructor(
    private readonly seqLen: number,
    private readonly o: PackerOptions,
  ) {
    if (!Number.isInteger(seqLen) || seqLen < 1) throw new RangeError(`seqLen must be a positive integer, got ${seqLen}`);
    this.window = o.window ?? 64;
    if (!(this.window >= 1)) throw new RangeError(`window must be at least 1, got ${o.window}`);
  }

  add(example: SftExample): PackedRow[] {
    const length = example.ids.length;
    if (length === 0 || length > this.seqLen) throw new RangeError(`an example of ${length} tokens does not fit rows of ${this.seqLen}`);
    if (!this.o.pack) return [buildRow([example], this.seqLen, this.o.padId)];
    const row = this.free.findIndex((room) => room >= length);
    if (row >= 0) {
      this.open[row]!.push(example);
      this.free[row]! -= length;
    } else {
      this.open.push([example]);
      this.free.push(this.seqLen - length);
    }
    const done: PackedRow[] = [];
    // Full rows can take nothing more; the oldest goes when the window overflows.
    while (this.open.length > 0 && (this.free[0] === 0 || this.open.length > this.window)) done.push(this.shift());
    return done;
  }

  flush(): PackedRow[] {
    const done: PackedRow[] = [];
    while (this.open.length > 0) done.push(this.shift());
    return done;
  }

  private shift(): PackedRow {
    this.free.shift();
    return buildRow(this.open.shift()!, this.seqLen, this.o.padId);
  }
}

function buildRow(examples: SftExample[], seqLen: number, padId: number): PackedRow {
  const ids = new Int32Array(seqLen).fill(padId);
  const targets = new Int32Array(seqLen).fill(-1);
  const positions = new Int32Array(seqLen);
  const segments: number[] = [];
  let offset = 0;
  for (const { ids: tokens, lossMask } of examples) {
    ids.set(tokens, offset);
    for (let i = 0; i < tokens.length; i++) {
      positions[offset + i] = i;
      // The last token of a conversation predicts nothing: the next one belongs to another.
      if (i + 1 < tokens.length && lossMask[i + 1]) targets[offset + i] = tokens[i + 1]!;
    }
    segments.push(tokens.length);
    offset += tokens.length;
  }
  if (offset < seqLen) {
    for (let i = offset; i < seqLen; i++) positions[i] = i - offset;
    segments.push(seqLen - offset);
  }
  return { ids, targets, positions, segments };
}
