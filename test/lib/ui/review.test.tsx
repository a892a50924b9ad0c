import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { render } from 'ink-testing-library';
import { LabelStore, ReviewSession } from '../../../lib/data/review.js';
import type { Doc } from '../../../lib/io/types.js';
import { columnsOf, wrapText } from '../../../lib/ui/wrap.js';
import { ReviewApp } from '../../../lib/ui/review.js';
import { parseJsonl, tempDir } from '../../helpers/cli.js';
import { press, type, typeAfterExit } from '../../helpers/ink.js';

const DOCS: Doc[] = [
  {
    id: 'web-1',
    source: 'web',
    lang: 'en',
    lang_score: 0.98,
    text: 'The committee approved the budget.\n\x1b[2Jno escape reaches the terminal',
    scores: { quality: 0.81234, perplexity: 123.456 },
    flags: { offensive: 'p=0.97', gopher_repetition: 'duplicate lines 0.40 > 0.30' },
  },
  { id: 'zh-1', lang: 'zh', text: '人人生而自由，在尊严和权利上一律平等。'.repeat(80), scores: { quality: 0.3 } },
  { id: 'plain', text: 'short' },
];

/** Columns a row takes on a terminal (CJK two each). */
const width = (row: string) => [...row].reduce((sum, ch) => sum + columnsOf(ch.codePointAt(0)!), 0);

test('text wraps to the width in terminal columns, CJK two each, and control characters show as escapes', () => {
  assert.deepEqual(wrapText('the quick brown fox jumps', 10), ['the quick', 'brown fox', 'jumps']);
  assert.deepEqual(wrapText('人人生而自由，在尊严', 8), ['人人生而', '自由，在', '尊严']);
  assert.deepEqual(wrapText('a\x1b[31mb\tc\r\n\nd', 40), ['a\\x1b[31mb    c', '', 'd']);
  assert.deepEqual(wrapText('x'.repeat(25), 10), ['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(5)]);
});

test('review shows a document with its scores and flags; keys label, skip, undo, scroll and quit, and labels reach the file at once', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const path = join(dir, 'labels.jsonl');
  const store = LabelStore.open(path);
  t.after(() => store.close());
  const session = new ReviewSession(DOCS, store);
  const app = render(<ReviewApp session={session} />);
  const labels = () => parseJsonl(readFileSync(path, 'utf8')).map((r) => [r.id, r.label]);

  let screen = await press(app, [], /^loom review 1\/3 · good 0 · bad 0 · offensive 0 · skipped 0/);
  assert.match(screen, /id web-1 · source web · lang en 0\.98 · \d+ chars/);
  assert.match(screen, /scores quality 0\.812 · perplexity 123/);
  assert.match(screen, /flag offensive: p=0\.97\nflag gopher_repetition: duplicate lines 0\.40 > 0\.30/);
  assert.match(screen, /\\x1b\[2Jno escape reaches the terminal/);
  assert.match(screen, /g good · b bad · o offensive · s skip · u undo/);

  await press(app, ['g'], /^loom review 2\/3 · good 1/);
  assert.deepEqual(labels(), [['web-1', 'good']]);
  await press(app, ['u'], /^loom review 1\/3 · good 0/);
  assert.deepEqual(labels(), []);
  screen = await press(app, ['o'], /^loom review 2\/3 · good 0 · bad 0 · offensive 1/);
  assert.deepEqual(labels(), [['web-1', 'offensive']]);

  // A long Chinese document: it fits 24 rows of 100 columns, and scrolls.
  const rows = screen.split('\n');
  assert.ok(rows.length <= 23, `${rows.length} rows`);
  assert.ok(rows.every((row) => width(row) <= 99), 'no row wider than the terminal');
  assert.match(screen, /lines 1-17 of 32/);
  await press(app, ['j', '\x1b[B'], /lines 3-19 of 32/);
  await press(app, [' '], /lines 16-32 of 32/);
  await press(app, ['k'], /lines 15-31 of 32/);
  await press(app, ['s'], /^loom review 3\/3 · good 0 · bad 0 · offensive 1 · skipped 1/);
  await press(app, ['b'], /All 3 documents of this sample are reviewed/);
  await press(app, ['x', 'u'], /id plain/);
  await press(app, ['b'], /All 3 documents/);
  // q ends the session (ink may clear its last frame as it exits, so no frame is awaited): a key
  // after it must change nothing
  await type(app, 'q');
  await typeAfterExit(app, 'u');
  assert.deepEqual(labels(), [['web-1', 'offensive'], ['plain', 'bad']], 'after q, keys do nothing');
  assert.deepEqual(session.counts, { good: 0, bad: 1, offensive: 1, skip: 1 });
  app.unmount();
});

test('u with nothing to undo says so', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const store = LabelStore.open(join(dir, 'labels.jsonl'));
  t.after(() => store.close());
  const app = render(<ReviewApp session={new ReviewSession(DOCS.slice(2), store)} />);
  await press(app, ['u'], /nothing to undo · g good/);
  app.unmount();
});
