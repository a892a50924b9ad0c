// The python sandbox against each hostile program of its tests: how the run ended (the cap that
// stopped it) and how long it took, and the time a trivial program takes (the sandbox's own cost).
// One JSON line on stdout, a table on stderr.
//   node --import tsx bench/tools-sandbox.ts
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isolation, runPython } from '../lib/infer/tools/sandbox.js';
import { hostileCases, SECRET_NAME, SECRET_VALUE } from '../test/lib/infer/tools/hostile.js';

process.env[SECRET_NAME] = SECRET_VALUE;
const outsideDir = mkdtempSync(join(tmpdir(), 'loom-bench-outside-'));
chmodSync(outsideDir, 0o777);
const server = createServer((socket) => socket.destroy());
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = (server.address() as { port: number }).port;
try {
  const how = await isolation();
  const starts: number[] = [];
  for (let i = 0; i < 5; i++) starts.push((await runPython('print(1)')).ms);
  const startMs = Math.round(starts.sort((a, b) => a - b)[2]!);
  const rows = [];
  for (const c of hostileCases({ outsideDir, port })) {
    const r = await runPython(c.code, { limits: c.limits });
    const lastLine = r.output.trimEnd().split('\n').at(-1)?.slice(0, 100) ?? '';
    rows.push({ case: c.name, cap: c.cap, end: r.end, ...(r.signal && { signal: r.signal }), ...(r.exitCode !== undefined && { exit: r.exitCode }), ms: Math.round(r.ms), leaked: r.output.includes(SECRET_VALUE) || /WROTE|CONNECTED|allocated/.test(r.output), last_line: lastLine });
  }
  process.stdout.write(JSON.stringify({ bench: 'tools-sandbox', cpu: `${cpus().length}× ${cpus()[0]?.model ?? '?'}`, isolation: how, start_ms: startMs, cases: rows }) + '\n');
  process.stderr.write(`print(1), median of 5: ${startMs} ms\n`);
  for (const row of rows) process.stderr.write(`${row.case.padEnd(28)} ${(row.end + (row.signal ? ` ${row.signal}` : '')).padEnd(16)} ${String(row.ms).padStart(6)} ms  ${row.last_line}\n`);
} finally {
  server.close();
  rmSync(outsideDir, { recursive: true, force: true });
}
