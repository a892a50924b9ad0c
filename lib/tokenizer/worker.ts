// Worker module for `--workers`: each thread loads the vocabulary once and encodes texts.
import { serveTasks } from '../util/worker-pool.js';
import { Tokenizer } from './tokenizer.js';
import type { VocabularySpec } from './vocabulary.js';

export interface EncodeInit {
  vocab: VocabularySpec;
  nfc: boolean;
}

// Loaded once per pool (each pool passes one init object to every call): with --workers 0 the
// handler runs in the calling thread, where one process may encode with several vocabularies or
// NFC settings, one pool after another.
let loaded: { init: EncodeInit; tokenizer: Tokenizer } | undefined;

export function handler(text: string, init: EncodeInit): Uint32Array {
  if (loaded?.init !== init) loaded = { init, tokenizer: Tokenizer.load(init.vocab, { nfc: init.nfc }) };
  return loaded.tokenizer.encodeOrdinary(text);
}

serveTasks(handler);
