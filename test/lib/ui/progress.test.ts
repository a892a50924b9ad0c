import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProgressSnapshot } from '../../../lib/cli/progress.js';
import { fitFields, FIELD_SEPARATOR } from '../../../lib/ui/fit.js';
import { startStatusLine, statusFields } from '../../../lib/ui/progress.js';
import { VirtualTerminal } from './virtual-terminal.js';

/** An extract run midway, with every counter a status line can show. */
function busySnapshot(): ProgressSnapshot {
  return {
    label: 'loom extract',
    records: 1_234_567,
    bytes: 3.2e9,
    totalBytes: 8e9,
    out: 987_654,
    rejected: 12,
    dropped: 246_901,
    extra: { warc_request_records: 1_234_567, warc_metadata_records: 1_234_567, warc_bytes_skipped: 5e8 },
  };
}

const line = (snap: ProgressSnapshot, seconds: number, width: number) =>
  fitFields(statusFields(snap, seconds), width)
    .map((f) => f.text)
    .join(FIELD_SEPARATOR);

test('the status line fits 80, 120 and 200 columns, on one row, through many redraws', async () => {
  for (const columns of [80, 120, 200]) {
    const tty = new VirtualTerminal(columns);
    const status = startStatusLine(busySnapshot, { terminal: tty.stream(), sharing: [], intervalMs: 2 });
    await sleep(30);
    const shown = tty.screen();
    await status.stop();
    assert.equal(tty.wraps, 0, `${columns} columns: nothing ran past the right edge`);
    assert.equal(shown.length, 1, `${columns} columns: one row, no stale frames: ${JSON.stringify(shown)}`);
    assert.ok(shown[0]!.length < columns, `${columns} columns: ${shown[0]}`);
    assert.match(shown[0]!, /^loom extract · 40% · ETA \S+ · 1\.23M in · 987\.7k out/, 'the stage and how far it is come first');
    assert.deepEqual(tty.screen(), [], 'stop erases the status line');
  }
  assert.ok(line(busySnapshot(), 10, 199).includes('warc_request_records'), '200 columns has room for the stage counters');
  assert.equal(line(busySnapshot(), 10, 5), 'loom…', 'a terminal narrower than the label still gets one row');
});

test('percentage, rate and ETA come from the known total; none without it or past it', () => {
  const half = { label: 'loom cat', records: 10, bytes: 50e6, totalBytes: 100e6, out: 10, rejected: 0, dropped: 0 };
  assert.equal(line(half, 10, 200), 'loom cat · 50% · ETA 10.0s · 10 in · 10 out · 5.0 MB/s · 1 rec/s · 10.0s');
  assert.equal(line({ ...half, totalBytes: undefined }, 10, 200), 'loom cat · 10 in · 10 out · 5.0 MB/s · 1 rec/s · 10.0s');
  assert.doesNotMatch(line({ ...half, totalBytes: 1e6 }, 10, 200), /%|ETA/, 'counted bytes beyond the total: no percentage at all rather than a wrong one');
});

test('the status line counts with the run summary\'s words: "dropped" and "rejected lines"', () => {
  const text = line({ ...busySnapshot(), extra: {} }, 10, 200);
  assert.match(text, /246\.9k dropped/);
  assert.match(text, /12 rejected lines/);
  assert.doesNotMatch(text, /rejected(?! lines)/);
});

test('log lines written to stderr while the status line is shown stay, above it', async () => {
  const tty = new VirtualTerminal(80);
  const stderr = tty.stream();
  const status = startStatusLine(busySnapshot, { terminal: stderr, sharing: [], intervalMs: 1 });
  const logs = Array.from({ length: 16 }, (_, i) => `crawl.warc.gz:${1000 + i}: dropped: non-html (application/pdf)`);
  for (const log of logs) {
    stderr.write(log + '\n');
    await sleep(3);
  }
  stderr.write('loom tokenize: shards/: train 123456 tokens (60 windows of 2048), val 789 tokens (0 windows)\n');
  const during = tty.lines();
  assert.equal(during.length, 18);
  assert.match(during[17]!, /^loom extract/, 'the status line stays at the bottom');
  await status.stop();
  assert.deepEqual(tty.lines(), [...logs, 'loom tokenize: shards/: train 123456 tokens (60 windows of 2048), val 789 tokens (0 windows)']);
});

test('data on stdout, the same terminal, is never erased: not while the status line is shown, not at the end', async () => {
  const tty = new VirtualTerminal(80);
  const stdout = tty.stream();
  const status = startStatusLine(busySnapshot, { terminal: tty.stream(), sharing: [stdout], intervalMs: 1 });
  // Rows of 130 characters wrap over two rows of the screen; the last write ends with no newline.
  const rows = Array.from({ length: 12 }, (_, i) => JSON.stringify({ id: i, text: 'x'.repeat(100), lang: 'en', lang_score: 0.99 }));
  for (let i = 0; i < rows.length; i += 3) {
    stdout.write(Buffer.from(rows.slice(i, i + 3).join('\n') + '\n'));
    await sleep(3);
  }
  stdout.write('{"partial":');
  await sleep(5);
  assert.equal(tty.lines().at(-1), '{"partial":', 'no status line is drawn into an unfinished line');
  stdout.write('true}\n');
  await status.stop();
  assert.deepEqual(tty.lines(), [...rows, '{"partial":true}'], 'every row intact, the last one too');
});
