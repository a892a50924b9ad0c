import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { FALLBACK_COLUMNS, inkStream } from '../../../lib/ui/terminal.js';

/** A terminal stream as a pty without a size presents it. */
function fakeTty(columns: number, isTTY = true): NodeJS.WriteStream {
  return Object.assign(new EventEmitter(), { isTTY, columns }) as unknown as NodeJS.WriteStream;
}

test('a terminal that reports 0 columns is drawn 80 wide, also after a resize reports 0 again', () => {
  const tty = inkStream(fakeTty(0));
  assert.equal(tty.columns, FALLBACK_COLUMNS);
  tty.columns = 0; // what Node's refresh does before it emits 'resize'
  tty.emit('resize');
  assert.equal(tty.columns, FALLBACK_COLUMNS);
});

test('a real width, and streams that are not terminals, are left alone', () => {
  assert.equal(inkStream(fakeTty(132)).columns, 132);
  assert.equal(inkStream(fakeTty(0, false)).columns, 0);
});
