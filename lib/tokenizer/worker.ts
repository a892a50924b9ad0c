// Worker module for `--workers`: each thread loads the vocabulary once and encodes texts.
import { serveTasks } from '../util/worker-pool.js';
import { Tokenizer } from './tokenizer.js';
import type { VocabularySpec } from './vocabulary.js';

export interface EncodeInit {
  vocab: VocabularySpec;
  nfc: boolean;
}

// Loaded once per thread, and again only for another init: with --workers 0 the handler runs in
// the calling thread, where one process may encode with several vocabularies or NFC settings.
let loaded: { key: string; tokenizer: Tokenizer } | undefined;

export function handler(text: string, init: EncodeInit): Uint32Array {
  const key = JSON.stringify(init);
  if (loaded?.key !== key) loaded = { key, tokenizer: Tokenizer.load(init.vocab, { nfc: init.nfc }) };
  return loaded.tokenizer.encodeOrdinary(text);
}

serveTasks(handler);
