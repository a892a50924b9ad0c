// Driving ink screens in tests: typing that never loses a key, and waiting for a frame.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { stripVTControlCharacters } from 'node:util';
import type { render } from 'ink-testing-library';

export type App = ReturnType<typeof render>;

/** The last frame without colours. */
export const frameOf = (app: App) => stripVTControlCharacters(app.lastFrame() ?? '');

/**
 * Types each chunk as its own read. The test stdin holds one chunk until ink reads it, and a write
 * replaces an unread chunk, so each chunk is re-announced until ink has taken it (on a loaded
 * machine ink may be between listeners when the first announcement comes).
 */
export async function type(app: App, ...chunks: string[]): Promise<void> {
  for (const chunk of chunks) {
    app.stdin.write(chunk);
    for (let waited = 0; app.stdin.data !== null && waited < 3000; waited += 10) {
      await sleep(10);
      if (app.stdin.data !== null) app.stdin.emit('readable');
    }
    assert.equal(app.stdin.data, null, `ink never read ${JSON.stringify(chunk)}`);
    await sleep(20); // lets ink handle the key before the next one
  }
}

/** The screen once it matches `expected` (ink draws on its own clock), else a failed assertion after 5 s. */
export async function screenMatching(app: App, expected: RegExp): Promise<string> {
  const deadline = Date.now() + 5000;
  while (!expected.test(frameOf(app)) && Date.now() < deadline) await sleep(10);
  assert.match(frameOf(app), expected);
  return frameOf(app);
}

/** Types the chunks, then waits for the screen to match. */
export async function press(app: App, chunks: string[], expected: RegExp): Promise<string> {
  await type(app, ...chunks);
  return screenMatching(app, expected);
}

/** Writes chunks to an app that has ended: nothing reads them any more, so no read is awaited. */
export async function typeAfterExit(app: App, ...chunks: string[]): Promise<void> {
  for (const chunk of chunks) {
    app.stdin.write(chunk);
    await sleep(40);
  }
}
