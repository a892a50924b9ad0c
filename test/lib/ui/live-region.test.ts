import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startLiveRegion } from '../../../lib/ui/live-region.js';
import { VirtualTerminal } from './virtual-terminal.js';

test('a frame line wider than the terminal wraps, and is still erased whole before the next write', () => {
  const tty = new VirtualTerminal(80);
  const stderr = tty.stream();
  let label = 'a';
  const region = startLiveRegion(() => label.repeat(200), { terminal: stderr, sharing: [], intervalMs: 1e6 });
  label = 'b';
  region.refresh();
  region.log('a log line');
  assert.deepEqual(tty.lines(), ['a log line', 'b'.repeat(200)]);
  region.stop();
  assert.deepEqual(tty.lines(), ['a log line']);
});

test('stop hands each stream its own write back; keep leaves the last frame, ended by a newline', () => {
  const tty = new VirtualTerminal(80);
  const stderr = tty.stream();
  const stdout = tty.stream();
  const own = stderr.write;
  const inherited = Object.create(stdout) as typeof stdout;
  const region = startLiveRegion(() => 'status', { terminal: stderr, sharing: [inherited], intervalMs: 1e6 });
  assert.notEqual(stderr.write, own);
  assert.ok(Object.hasOwn(inherited, 'write'));
  region.stop({ keep: true });
  assert.equal(stderr.write, own);
  assert.ok(!Object.hasOwn(inherited, 'write'), 'a write that came from the prototype comes from it again');
  stderr.write('after\n');
  assert.deepEqual(tty.lines(), ['status', 'after']);
});
