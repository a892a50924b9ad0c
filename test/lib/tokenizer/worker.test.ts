import { test } from 'node:test';
import assert from 'node:assert/strict';
import { handler, tokenizerFor } from '../../../lib/tokenizer/worker.js';

test('a new pool with the same vocabulary and NFC setting keeps the loaded tokenizer instead of reloading it', () => {
  const first = { vocab: { vocab: 'cl100k' }, nfc: true };
  const ids = handler('Tokenize me twice.', first);
  const loaded = tokenizerFor(first);
  // Each pool passes its own init object: equal settings, another object.
  assert.equal(tokenizerFor({ vocab: { vocab: 'cl100k' }, nfc: true }), loaded);
  assert.deepEqual(handler('Tokenize me twice.', { vocab: { vocab: 'cl100k' }, nfc: true }), ids);
  const raw = tokenizerFor({ vocab: { vocab: 'cl100k' }, nfc: false });
  assert.notEqual(raw, loaded, 'another NFC setting loads another tokenizer');
  assert.equal(raw.nfc, false);
  assert.deepEqual(handler('Tokenize me twice.', first), ids, 'and the first setting still encodes after the switch');
});
