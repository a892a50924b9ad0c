// The preference pairs a run trains on (rm, dpo): read from --data in any format preferencePair
// reads, encoded with the checkpoint's tokenizer, and split into train and held-out pairs (--val-data,
// else a seeded --val-fraction of --data). A pair that cannot be read or fitted is dropped with its
// reason, as readExamples does.
import { preferencePair } from '../chat/formats.js';
import { encodePreference, type EncodedPair } from '../chat/preference.js';
import { DataError } from '../errors.js';
import type { RejectSink } from '../io/rejects.js';
import type { Doc, OnError } from '../io/types.js';
import type { LoadedCheckpoint } from '../model/checkpoint.js';
import { checkpointVocabulary } from '../model/load.js';
import { ENDOFTEXT } from '../tokenizer/special.js';
import { Tokenizer } from '../tokenizer/tokenizer.js';
import { createRandom } from '../util/random.js';
import { readExamples, splitExamples } from './examples.js';

export interface PreferenceDataOptions {
  data: string[];
  valData?: string[];
  onError: OnError;
  rejects?: RejectSink;
  log: (line: string) => void;
}

export interface PreferenceData {
  train: EncodedPair[];
  val: EncodedPair[];
  dropped: number;
  /** The token rows are padded with (<|endoftext|>). */
  padId: number;
}

export async function readPreferencePairs(
  stage: string,
  from: LoadedCheckpoint,
  o: PreferenceDataOptions,
  s: { maxLen: number; systemPrompt: string; valFraction: number },
  splitSeed: number,
): Promise<PreferenceData> {
  const tokenizer = new Tokenizer(checkpointVocabulary(from), { nfc: from.info.nfc });
  try {
    const encode = (doc: Doc) => {
      const pair = preferencePair(doc);
      return typeof pair === 'string' ? { drop: pair } : encodePreference(tokenizer, pair, { maxLen: s.maxLen, systemPrompt: s.systemPrompt });
    };
    const read = { onError: o.onError, rejects: o.rejects, log: o.log, stage };
    const main = await readExamples(o.data, encode, read);
    const held = o.valData ? await readExamples(o.valData, encode, read) : undefined;
    const { train, val } = held ? { train: main.examples, val: held.examples } : splitExamples(main.examples, s.valFraction, createRandom(splitSeed));
    const dropped = main.dropped + (held?.dropped ?? 0);
    if (train.length === 0) throw new DataError(`${o.data.join(' ')}: no preference pair to train on (${dropped} dropped)`);
    return { train, val, dropped, padId: tokenizer.vocab.specials[ENDOFTEXT]! };
  } finally {
    tokenizer.free();
  }
}

/** The mean tokens of a pair (both sequences): tokens/s counts these, as pairs are padded per micro-batch. */
export function meanPairTokens(pairs: readonly EncodedPair[]): number {
  return pairs.reduce((a, p) => a + p.chosen.length + p.rejected.length, 0) / pairs.length;
}

/** Consecutive slices of `batch` pairs, the held-out set's forward passes. */
export function pairBatches<P>(pairs: readonly P[], batch: number): { pairs: P[] }[] {
  return Array.from({ length: Math.ceil(pairs.length / batch) }, (_, i) => ({ pairs: pairs.slice(i * batch, (i + 1) * batch) }));
}
