// Worker module for `--workers`: each thread loads the vocabulary once and encodes texts.
import { serveTasks } from '../util/worker-pool.js';
import { Tokenizer } from './tokenizer.js';
import { loadVocabulary, type VocabularySpec } from './vocabulary.js';

export interface EncodeInit {
  vocab: VocabularySpec;
  nfc: boolean;
}

// One tokenizer per setting: with --workers 0 the handler runs in the calling thread, where one
// process may encode with several vocabularies or NFC settings, one pool after another, or with the
// same setting in many pools (a script, a benchmark), which keep the loaded tokenizer: loading one
// costs ~0.15 s. Each pool passes one init object to every call, so the per-document check is one
// comparison of identity.
let loaded: { init: EncodeInit; tokenizer: Tokenizer } | undefined;

export function handler(text: string, init: EncodeInit): Uint32Array {
  return (loaded?.init === init ? loaded.tokenizer : tokenizerFor(init)).encodeOrdinary(text);
}

/** The tokenizer for `init`'s vocabulary and NFC setting: the loaded one when they are the same. */
export function tokenizerFor(init: EncodeInit): Tokenizer {
  // loadVocabulary returns the same object for the same spec and unchanged files.
  const vocab = loadVocabulary(init.vocab);
  if (loaded && loaded.tokenizer.vocab === vocab && loaded.tokenizer.nfc === init.nfc) {
    loaded.init = init;
  } else {
    loaded?.tokenizer.free();
    loaded = { init, tokenizer: new Tokenizer(vocab, { nfc: init.nfc }) };
  }
  return loaded.tokenizer;
}

/** Frees the tokenizer kept in this thread (its WASM encoder holds tens of MB); the next call loads one again. */
export function releaseTokenizer(): void {
  loaded?.tokenizer.free();
  loaded = undefined;
}

serveTasks(handler);
