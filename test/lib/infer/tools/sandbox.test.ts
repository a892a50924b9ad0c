// The sandbox against hostile programs, for real: each cap holds, the run ends within a few
// seconds, nothing it started outlives it, and loom's event loop keeps ticking meanwhile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { isolation, runPython, type SandboxResult } from '../../../../lib/infer/tools/sandbox.js';
import { tempDir } from '../../../helpers/cli.js';
import { hostileCases, MARKER_SLEEP, SECRET_NAME, SECRET_VALUE, type HostileCase } from './hostile.js';

const how = await isolation();
const NO_NAMESPACES = how.namespaces ? false : `this machine refuses namespaces (${how.reason})`;
process.env[SECRET_NAME] = SECRET_VALUE;
const outside = tempDir('loom-sandbox-outside-');
// World-writable, so only the sandbox's mounts (not file modes) can keep the program out.
chmodSync(outside.dir, 0o777);
let connections = 0;
const server = createServer((socket) => {
  connections += 1;
  socket.destroy();
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = (server.address() as { port: number }).port;
const cases = new Map(hostileCases({ outsideDir: outside.dir, port }).map((c) => [c.name, c]));
test.after(() => {
  server.close();
  outside.cleanup();
});

/** Runs a case while a 10 ms timer ticks in this process; the longest gap between ticks says whether loom stayed responsive. */
async function hostile(name: string): Promise<SandboxResult & { worstGapMs: number }> {
  const c: HostileCase = cases.get(name)!;
  let last = performance.now();
  let worstGapMs = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    worstGapMs = Math.max(worstGapMs, now - last);
    last = now;
  }, 10);
  try {
    const result = await runPython(c.code, { limits: c.limits });
    return { ...result, worstGapMs };
  } finally {
    clearInterval(ticker);
  }
}

const leftover = (pattern: string[]) => spawnSync('pgrep', pattern).status === 0;
/** Processes of a group that still run (zombies excluded: an init that never reaps keeps them), read by ps. */
const aliveInGroup = (group: number) =>
  spawnSync('ps', ['-e', '-o', 'pgid=,stat='], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([pgid, stat]) => Number(pgid) === group && !stat!.startsWith('Z')).length;

test('a plain program runs and prints, with nothing inherited from the environment but PATH, LANG, HOME and TMPDIR', async () => {
  const result = await runPython('import os\nprint(6 * 7)\nprint(sorted(os.environ))\nprint(os.environ["HOME"] == os.getcwd() == os.environ["TMPDIR"])');
  assert.equal(result.end, 'exited');
  assert.equal(result.exitCode, 0);
  assert.equal(result.output, "42\n['HOME', 'LANG', 'PATH', 'TMPDIR']\nTrue\n");
});

test('the working directory is fresh each run and removed after', async () => {
  const before = new Set(readdirSync(tmpdir()).filter((f) => f.startsWith('loom-python-')));
  const first = await runPython('import os\nopen("note.txt", "w").write("x")\nprint(os.getcwd())');
  const second = await runPython('import os\nprint(os.listdir("."))');
  assert.equal(second.output, "['main.py']\n");
  assert.equal(existsSync(first.output.trim()), false);
  assert.deepEqual(readdirSync(tmpdir()).filter((f) => f.startsWith('loom-python-') && !before.has(f)), []);
});

test('an infinite loop is stopped by the CPU time cap', async () => {
  const result = await hostile('infinite loop');
  assert.equal(result.end, 'signal');
  assert.equal(result.signal, 'SIGXCPU');
  assert.ok(result.ms < 10_000, `${result.ms} ms`);
  assert.ok(result.worstGapMs < 500, `event loop blocked ${result.worstGapMs} ms`);
});

test('a program sleeping in a new session is killed at the wall-clock timeout, with everything it started', { skip: NO_NAMESPACES }, async () => {
  const result = await hostile('sleep in a new session');
  assert.equal(result.end, 'timeout');
  assert.ok(result.ms >= 1000 && result.ms < 4000, `${result.ms} ms`);
  assert.equal(leftover(['-f', `sleep ${MARKER_SLEEP}`]), false, 'the escaped sleep outlived the run');
  assert.ok(result.worstGapMs < 500, `event loop blocked ${result.worstGapMs} ms`);
});

test('a fork bomb hits the process cap and dies at the timeout, leaving no process behind', async () => {
  const result = await hostile('fork bomb');
  assert.equal(result.end, 'timeout');
  assert.match(result.output, /Resource temporarily unavailable/);
  assert.ok(result.ms < 6000, `${result.ms} ms`);
  // Other test files run Python as nobody at the same time, so the check is by the run's group.
  assert.equal(aliveInGroup(result.processGroup), 0, 'processes of the fork bomb remain');
  assert.ok(result.worstGapMs < 500, `event loop blocked ${result.worstGapMs} ms`);
});

test('allocating 10 GB fails with MemoryError under the memory cap', async () => {
  const result = await hostile('allocate 10 GB');
  assert.equal(result.end, 'exited');
  assert.equal(result.exitCode, 1);
  assert.match(result.output, /MemoryError/);
  assert.doesNotMatch(result.output, /allocated/);
});

test('printing 1 GB is cut at the output cap and the program killed', async () => {
  const result = await hostile('print 1 GB');
  assert.equal(result.end, 'output');
  assert.equal(result.output.length, 64 << 10);
  assert.ok(result.ms < 5000, `${result.ms} ms`);
  assert.ok(result.worstGapMs < 500, `event loop blocked ${result.worstGapMs} ms`);
});

test('writing outside its directory is refused (read-only mounts); inside, files are capped in size', { skip: NO_NAMESPACES }, async () => {
  const result = await hostile('write outside its directory');
  assert.doesNotMatch(result.output, /WROTE/);
  assert.equal(result.output.match(/^refused .* Read-only file system$/gm)?.length, 4, result.output);
  assert.match(result.output, /^inside ok 100$/m);
  assert.match(result.output, /^big refused (File too large|No space left on device)$/m);
  assert.equal(existsSync(`${outside.dir}/escaped.txt`), false);
});

test('a secret in loom\'s environment is seen neither in os.environ nor in any /proc/*/environ', async () => {
  const result = await hostile('read environment secrets');
  assert.equal(result.end, 'exited');
  assert.ok(!result.output.includes(SECRET_VALUE), result.output);
  assert.match(result.output, /^\['HOME', 'LANG', 'PATH', 'TMPDIR'\]$/m);
});

test('a socket reaches neither loom\'s machine nor the internet', { skip: NO_NAMESPACES }, async () => {
  const result = await hostile('open a socket');
  assert.doesNotMatch(result.output, /CONNECTED/);
  assert.equal(result.output.match(/^refused /gm)?.length, 2, result.output);
  assert.equal(connections, 0);
});

test('an abort kills the run at once', async () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 300);
  const result = await runPython('import time\ntime.sleep(60)', { signal: controller.signal, limits: { timeoutMs: 30_000 } });
  assert.equal(result.end, 'aborted');
  assert.ok(result.ms < 3000, `${result.ms} ms`);
});

// Without namespaces (containers that refuse them) the rlimits, the environment and loom's own
// kills still hold; what does not is listed in docs/tools.md, and shown here where it is safe to.
const WITHOUT_NAMESPACES = { namespaces: false, nobody: how.nobody };

test('without namespaces: CPU, memory, output and environment caps still hold', async () => {
  const run = (name: string) => runPython(cases.get(name)!.code, { limits: cases.get(name)!.limits, isolation: WITHOUT_NAMESPACES });
  const loop = await run('infinite loop');
  assert.equal(loop.signal, 'SIGXCPU');
  assert.match((await run('allocate 10 GB')).output, /MemoryError/);
  const printed = await run('print 1 GB');
  assert.equal(printed.end, 'output');
  assert.equal(printed.output.length, 64 << 10);
  const secrets = await run('read environment secrets');
  assert.ok(!secrets.output.includes(SECRET_VALUE));
});

test('without namespaces: a process that leaves the group outlives the run, which still ends at its timeout', async () => {
  const c = cases.get('sleep in a new session')!;
  const result = await runPython(c.code, { limits: c.limits, isolation: WITHOUT_NAMESPACES });
  assert.equal(result.end, 'timeout');
  assert.ok(result.ms < 4000, `${result.ms} ms: the escaped process holds the output pipe, and the run must not wait for it`);
  const escaped = spawnSync('pgrep', ['-f', `sleep ${MARKER_SLEEP}`], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).map(Number);
  assert.equal(escaped.length, 1, 'the documented limit: no PID namespace, no kill of a new session');
  for (const pid of escaped) process.kill(pid, 'SIGKILL');
});
