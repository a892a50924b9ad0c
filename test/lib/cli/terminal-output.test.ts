// The real CLI on a pseudo-terminal of 80 columns, stdout and stderr both on it, as a user runs it:
// what is left on the screen must hold every log line and every row of data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crawlRecords } from '../../../examples/quickstart/make-warc.js';
import { gzipRecord } from '../../../lib/data/extract/warc-write.js';
import { LOOM_BIN, ROOT } from '../../helpers/cli.js';
import { VirtualTerminal } from '../ui/virtual-terminal.js';

const hasScript = spawnSync('script', ['--version']).status === 0;

const quote = (a: string) => `'${a.replaceAll("'", "'\\''")}'`;

/**
 * Runs `loom …args` under script(1) on a `columns`-wide pty, CI unset so the status line is drawn,
 * with `input`'s lines fed to its stdin 20 ms apart: the status line redraws between them.
 */
function runOnTerminal(args: string[], columns: number, slowInput?: string): Promise<string> {
  const loom = [process.execPath, '--import', 'tsx', LOOM_BIN, ...args].map(quote).join(' ');
  const slowly = slowInput ? `while IFS= read -r line; do printf '%s\\n' "$line"; sleep 0.02; done < ${quote(slowInput)} | ` : '';
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color' };
  delete env.CI;
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', `stty cols ${columns} rows 24; ${slowly}${loom}`, '/dev/null'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out).toString('utf8')) : reject(new Error(`exit ${code}: ${Buffer.concat(out)}`))));
  });
}

test('on an 80-column terminal, every warning and every row of data stays on the screen', { skip: !hasScript && 'needs script(1)' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'loom-tty-'));
  try {
    const rows: string[] = [];
    const lines: string[] = [];
    for (let i = 0; i < 40; i++) {
      // 150-character rows wrap over two rows of the screen, as real documents do.
      rows.push(JSON.stringify({ id: i, text: 'word '.repeat(25), url: `https://example.com/${i}` }));
      lines.push(rows[i]!);
      if (i % 5 === 0) lines.push(`not json ${i}`);
    }
    const input = join(dir, 'in.jsonl');
    writeFileSync(input, lines.join('\n') + '\n');
    const tty = new VirtualTerminal(80);
    tty.feed(await runOnTerminal(['cat', '--on-error', 'skip'], 80, input));
    const screen = tty.lines();
    const warnings = screen.filter((l) => l.includes(': invalid JSON'));
    assert.equal(warnings.length, 8, `all 8 warnings stay:\n${screen.join('\n')}`);
    assert.deepEqual(
      screen.filter((l) => l.startsWith('{')),
      rows,
      'every row of data intact, the last one too',
    );
    assert.match(screen.at(-1)!, /^loom cat: 40 in · 40 out · 8 rejected lines/, 'the run summary ends the output');
    assert.equal(screen.filter((l) => l.includes('rec/s')).length, 0, 'no status line is left behind');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('extract on an 80-column terminal: every drop message and every document stay, no status frames pile up', { skip: !hasScript && 'needs script(1)' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'loom-tty-'));
  try {
    const crawl = join(dir, 'crawl.warc.gz');
    writeFileSync(crawl, Buffer.concat(crawlRecords({ pages: 30, seed: 3 }).map(gzipRecord)));
    const tty = new VirtualTerminal(80);
    tty.feed(await runOnTerminal(['extract', '-j', '0', crawl], 80));
    const screen = tty.lines();
    const summary = /^loom extract: (\d+) in · (\d+) out · 0 rejected lines · (\d+) dropped/.exec(screen.at(-1)!);
    assert.ok(summary, `the run summary ends the output:\n${screen.join('\n')}`);
    const [, , out, dropped] = summary.map(Number);
    assert.ok(dropped! > 0);
    assert.equal(screen.filter((l) => l.startsWith(`${crawl}:`)).length, dropped, 'one message per dropped page, all still there');
    const docs = screen.filter((l) => l.startsWith('{'));
    assert.equal(docs.length, out);
    for (const doc of docs) assert.doesNotThrow(() => JSON.parse(doc), `an intact row: ${doc.slice(-40)}`);
    assert.equal(screen.filter((l) => l.startsWith('loom extract ·')).length, 0, 'no status frame is left behind');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
