import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OrderedText } from '../../../lib/infer/ordered-text.js';

test('the first unfinished sample streams; later ones wait for those before them', () => {
  const written: string[] = [];
  const out = new OrderedText((s) => written.push(s));
  out.add(1, 'B1', false);
  out.add(0, 'A1', false);
  out.add(2, 'C1', true);
  out.add(1, 'B2', false);
  assert.deepEqual(written, ['A1'], 'only sample 0 is shown so far');
  out.add(0, 'A2', true);
  assert.deepEqual(written, ['A1', 'A2', '\n', 'B1B2'], "sample 1's text so far follows sample 0's end");
  out.add(1, 'B3', false);
  assert.deepEqual(written.at(-1), 'B3', 'and now streams directly');
  out.add(1, '', true);
  assert.equal(written.join(''), 'A1A2\nB1B2B3\nC1\n', 'the finished sample 2 follows at once');
});
