import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mayHaveLongPiece } from '../../../lib/tokenizer/long-runs.js';
import { createRandom } from '../../../lib/util/random.js';

// The Unicode-property definition the table scan implements: letter runs of max − 1, runs of other
// characters or of whitespace of max/2 − 1 (counted in code points).
const MAX = 512;
const REFERENCE = [
  new RegExp(`\\p{L}{${MAX - 1}}`, 'u'),
  new RegExp(`[^\\p{White_Space}\\p{L}\\p{N}]{${MAX / 2 - 1}}`, 'u'),
  new RegExp(`\\p{White_Space}{${MAX / 2 - 1}}`, 'u'),
];
const reference = (text: string) => REFERENCE.some((run) => run.test(text));

test('the run scan agrees with the Unicode-property regexes at every run length edge', () => {
  const cases = [
    'a'.repeat(510), 'a'.repeat(511), '中'.repeat(510), '中'.repeat(511), 'é'.repeat(600),
    '，'.repeat(254), '，'.repeat(255), '-'.repeat(255), ' '.repeat(254), ' '.repeat(255), '\u3000'.repeat(255), '\n'.repeat(255),
    '中'.repeat(300) + '1' + '中'.repeat(300), '中'.repeat(300) + '，' + '中'.repeat(300), '中'.repeat(300) + ' ' + '中'.repeat(211),
    `${'a'.repeat(200)}${'б'.repeat(200)}${'ع'.repeat(111)}`, '', 'x',
  ];
  for (const text of cases) assert.equal(mayHaveLongPiece(text, MAX), reference(text), `${text.slice(0, 8)}… × ${text.length}`);
});

test('on random text it is the regexes exactly, and with astral characters a superset of them', () => {
  const random = createRandom(5);
  const alphabets = ['ab', '中文', '，。', ' \t', '12', 'a中，1 ', '\u{20000}\u{1F600}a'];
  for (let i = 0; i < 400; i++) {
    const alphabet = [...alphabets[i % alphabets.length]!];
    const text = Array.from({ length: 200 + random.int(900) }, () => alphabet[random.int(alphabet.length)]).join('');
    const astral = /[\ud800-\udfff]/.test(text);
    if (astral) assert.ok(mayHaveLongPiece(text, MAX) || !reference(text), `missed a long run in ${text.slice(0, 20)}…`);
    else assert.equal(mayHaveLongPiece(text, MAX), reference(text), text.slice(0, 20));
  }
});
