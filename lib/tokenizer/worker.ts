// Worker module for `--workers`: each thread loads the vocabulary once and encodes texts.
import { serveTasks } from '../util/worker-pool.js';
import { Tokenizer } from './tokenizer.js';
import type { VocabularySpec } from './vocabulary.js';

export interface EncodeInit {
  vocab: VocabularySpec;
  nfc: boolean;
}

let tokenizer: Tokenizer | undefined;

export function handler(text: string, init: EncodeInit): Uint32Array {
  tokenizer ??= Tokenizer.load(init.vocab, { nfc: init.nfc });
  return tokenizer.encodeOrdinary(text);
}

serveTasks(handler);
