import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { LOOM_BIN, ROOT, parseJsonl, runLoom, tempDir } from '../helpers/cli.js';

const TSX = import.meta.resolve('tsx');
const records = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ id: String(from + i), text: `text of document ${from + i}` }));
const jsonl = (docs: object[]) => docs.map((d) => JSON.stringify(d)).join('\n') + '\n';

test('cat passes records through untouched, unknown fields included', async () => {
  const input = '{"id":"1","text":"a","weird":{"nested":[1,2]}}\n{"id":"2","text":"b"}\n';
  const result = await runLoom(['cat', '--quiet'], { input });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, input);
});

test('gzip and zstd inputs are read by content, whatever their names; CRLF and BOM input is clean JSONL out', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  writeFileSync(join(dir, 'a.jsonl'), gzipSync(jsonl(records(3))));
  writeFileSync(join(dir, 'b.data'), '\ufeff{"id":"x"}\r\n{"id":"y"}');
  const zstd = await runLoom(['cat', '--quiet', '--out', join(dir, 'z'), '--compression', 'zstd'], { input: jsonl(records(2, 10)) });
  assert.equal(zstd.code, 0, zstd.stderr);
  const result = await runLoom(['cat', '--quiet', join(dir, 'a.jsonl'), join(dir, 'b.data'), join(dir, 'z')]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(parseJsonl(result.stdout).map((d) => d.id), ['0', '1', '2', 'x', 'y', '10', '11']);
});

test('`loom cat | head -1` exits 0 with nothing on stderr (EPIPE)', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const file = join(dir, 'big.jsonl');
  writeFileSync(file, jsonl(records(200_000)));
  const script = `set -o pipefail; "${process.execPath}" --import "${TSX}" "${LOOM_BIN}" cat "${file}" | head -1; echo "status=\${PIPESTATUS[0]}" >&2`;
  const result = spawnSync('bash', ['-c', script], { cwd: ROOT, env: { ...process.env, CI: 'true' } });
  assert.equal(result.stdout.toString(), JSON.stringify(records(1)[0]) + '\n');
  const stderr = result.stderr.toString();
  assert.equal(stderr.trim(), 'status=0');
});

test('backpressure: a stalled reader makes loom stop reading, not buffer its input', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const file = join(dir, 'large.jsonl');
  const line = JSON.stringify({ id: 'x', text: 'y'.repeat(1000) }) + '\n';
  const inputBytes = line.length * 200_000; // ~200 MB
  writeFileSync(file, line.repeat(200_000));
  const child = spawn(process.execPath, ['--import', TSX, LOOM_BIN, 'cat', '--quiet', file], { env: { ...process.env, CI: 'true' } });
  // rchar counts every byte the process has read (its own sources too): how far it got into the input.
  const bytesRead = () => Number(/rchar:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/io`, 'utf8'))?.[1] ?? 0);
  let peakRssKb = 0;
  const sampler = setInterval(() => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      peakRssKb = Math.max(peakRssKb, Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0));
    } catch {
      // the process has exited
    }
  }, 50);
  child.stdout.pause();
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const readWhileStalled = bytesRead();
  let received = 0;
  child.stdout.on('data', (chunk: Buffer) => (received += chunk.length));
  child.stdout.resume();
  const code = await new Promise((resolve) => child.on('close', resolve));
  clearInterval(sampler);
  assert.equal(code, 0);
  assert.equal(received, inputBytes);
  assert.ok(readWhileStalled < inputBytes / 2, `read ${(readWhileStalled / 1e6).toFixed(0)} MB of a 200 MB input while stdout was stalled`);
  assert.ok(peakRssKb > 0 && peakRssKb < 300_000, `peak RSS ${peakRssKb} kB while a 200 MB input waited on a stalled reader`);
});

test('a run killed with SIGKILL resumes on rerun: same shards, no loss, no duplicates', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const out = join(dir, 'shards');
  const all = records(30_000);
  const args = ['cat', '--quiet', '--out', out, '--shard-size', '2000'];
  const child = spawn(process.execPath, ['--import', TSX, LOOM_BIN, ...args], { env: { ...process.env, CI: 'true' } });
  // Feed part of the input and keep stdin open, so the run is mid-way when it dies.
  child.stdin.write(jsonl(all.slice(0, 9_000)));
  const manifest = join(out, 'manifest.json');
  const shardsDone = () => (existsSync(manifest) ? JSON.parse(readFileSync(manifest, 'utf8')).shards.length : 0);
  for (let waited = 0; shardsDone() < 4 && waited < 20_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
  child.kill('SIGKILL');
  await new Promise((resolve) => child.on('close', resolve));
  assert.equal(shardsDone(), 4);

  const rerun = await runLoom(args.filter((a) => a !== '--quiet'), { input: jsonl(all) });
  assert.equal(rerun.code, 0, rerun.stderr);
  assert.match(rerun.stderr, /resumed after 8000 records/);
  const final = JSON.parse(readFileSync(manifest, 'utf8'));
  assert.equal(final.complete, true);
  const ids = final.shards.flatMap((s: { file: string }) => parseJsonl(gunzipSync(readFileSync(join(out, s.file))).toString()).map((d) => d.id));
  assert.deepEqual(ids, all.map((d) => d.id));
});

test('--rejects loses nothing: every input line is in the output or in the rejects file', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const lines = Array.from({ length: 1000 }, (_, i) => (i % 7 === 3 ? `{"id":${i},` : JSON.stringify({ id: i })));
  const rejects = join(dir, 'rejects.jsonl');
  const result = await runLoom(['cat', '--on-error', 'skip', '--rejects', rejects], { input: lines.join('\n') });
  assert.equal(result.code, 0, result.stderr);
  const kept = parseJsonl(result.stdout).map((d) => JSON.stringify(d));
  const rejected = parseJsonl(readFileSync(rejects, 'utf8'));
  assert.equal(kept.length + rejected.length, lines.length);
  assert.deepEqual([...kept, ...rejected.map((r) => r.raw)].sort(), [...lines].sort());
  assert.ok(rejected.every((r) => r.file === '<stdin>' && lines[(r.line as number) - 1] === r.raw));
});
