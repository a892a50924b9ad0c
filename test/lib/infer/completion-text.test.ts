import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CompletionText } from '../../../lib/infer/completion-text.js';

// Token i stands for the bytes of pieces[i].
const bytesOf = (pieces: (string | number[])[]) => ({
  decodeBytes: (ids: ArrayLike<number>) => {
    const p = pieces[ids[0]!]!;
    return typeof p === 'string' ? new TextEncoder().encode(p) : Uint8Array.from(p);
  },
});

/** Pushes tokens 0, 1, … until push says stop; what take() gave after each token, and the rest. */
function run(pieces: (string | number[])[], stops: string[]) {
  const text = new CompletionText(bytesOf(pieces), stops);
  const taken: string[] = [];
  let pushed = 0;
  for (let id = 0; id < pieces.length; id++) {
    pushed += 1;
    const more = text.push(id);
    taken.push(text.take());
    if (!more) break;
  }
  taken.push(text.finish());
  return { text: text.toString(), taken, pushed, stopped: text.stopped };
}

test('a stop string spread over three tokens ends the text right before it', () => {
  const r = run(['Answer: 4', '\n\nQu', 'est', 'ion: what'], ['\n\nQuestion:']);
  assert.equal(r.text, 'Answer: 4');
  assert.ok(r.stopped);
  assert.equal(r.pushed, 4, 'found at the token that completes it');
  assert.deepEqual(r.taken, ['Answer: 4', '', '', '', ''], 'the possible start of the stop string is never shown');
  assert.equal(r.taken.join(''), r.text);
});

test('text that only began like a stop string is shown once it cannot be one', () => {
  const r = run(['a\n', '\n', 'b', 'c'], ['\n\nQuestion:']);
  assert.deepEqual(r.taken, ['a', '', '\n\nb', 'c', ''], 'the held back line breaks go out with the token that rules the stop string out');
  assert.equal(r.text, 'a\n\nbc');
  assert.ok(!r.stopped);
});

test('the earliest of several stop strings cuts, even when another ends first', () => {
  assert.equal(run(['xABCD', 'E'], ['BCDE', 'D']).text, 'xABC');
  assert.equal(run(['xAB', 'CDE'], ['BCDE', 'E']).text, 'xA');
});

test('a Chinese character split over tokens waits for its last byte; a stop string after it cuts there', () => {
  const [a, b, c] = Buffer.from('好'); // e5 a5 bd
  const r = run(['你', [a!, b!], [c!, 0x3c], '|im', '_end|>', 'more'], ['<|im_end|>']);
  assert.equal(r.text, '你好');
  assert.deepEqual(r.taken, ['你', '', '好', '', '', ''], 'no half character and no part of the stop string is shown');
  assert.ok(r.stopped);
  const halfStop = run([[a!], [b!, c!]], ['好']);
  assert.equal(halfStop.text, '', 'a stop string made of a split character is found');
  assert.equal(run([[a!, b!]], []).text, '\ufffd', 'a character the sequence never finishes becomes U+FFFD');
});

test('without stop strings everything is shown at once', () => {
  const r = run(['Hello', ',', ' world'], []);
  assert.deepEqual(r.taken, ['Hello', ',', ' world', '']);
});
