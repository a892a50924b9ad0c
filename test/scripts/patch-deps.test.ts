import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseHTML } from 'linkedom';
import { MARKER, PATCHES, patchFile } from '../../scripts/patch-deps.mjs';

const edits = PATCHES[0]!.edits;

test('patchFile applies each edit once, marks the file, and leaves a marked file alone', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'loom-patch-')), 'event-target.js');
  const original = `'use strict';\n${edits.map(([from]) => `${from}\n// between\n`).join('')}`;
  writeFileSync(path, original);
  assert.equal(patchFile(path, edits), true);
  const patched = readFileSync(path, 'utf8');
  assert.ok(patched.startsWith(`${MARKER}\n'use strict';`));
  for (const [, to] of edits) assert.ok(patched.includes(to));
  assert.ok(!patched.includes('wm.set(this, new Map);\n  }'));
  assert.equal(patchFile(path, edits), false);
  assert.equal(readFileSync(path, 'utf8'), patched);
});

test('patchFile stops with the file path when the dependency no longer has the text it replaces', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'loom-patch-')), 'event-target.js');
  writeFileSync(path, `${edits[0]![0]}\n`);
  assert.throws(() => patchFile(path, edits), (e: Error) => e.message.startsWith(`${path}: expected exactly one copy of`));
  assert.equal(readFileSync(path, 'utf8'), `${edits[0]![0]}\n`, 'nothing half-written');
});

test('npm install patched linkedom, and its listeners still work on nodes made without a map', () => {
  for (const { file } of PATCHES) assert.ok(readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8').startsWith(MARKER), file);
  const { document, Event } = parseHTML('<html><body><div id="a"><p>x</p></div></body></html>');
  const div = document.getElementById('a')!;
  const p = document.querySelector('p')!;
  p.removeEventListener('ping', () => {}); // a node with no listeners yet
  assert.equal(p.dispatchEvent(new Event('ping')), true);
  const heard: string[] = [];
  const listener = () => heard.push('div');
  div.addEventListener('ping', listener);
  p.addEventListener('ping', () => heard.push('p'), { once: true });
  p.dispatchEvent(new Event('ping', { bubbles: true }));
  p.dispatchEvent(new Event('ping', { bubbles: true }));
  assert.deepEqual(heard, ['p', 'div', 'div']);
  div.removeEventListener('ping', listener);
  p.dispatchEvent(new Event('ping', { bubbles: true }));
  assert.deepEqual(heard, ['p', 'div', 'div']);
});
