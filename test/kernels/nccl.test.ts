// NCCL all-reduce and broadcast across GPUs, one process per GPU (skipped with fewer than 2 GPUs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { tempDir } from '../helpers/cli.js';
import { cudaAvailability, openBackend } from '../../kernels/index.js';

const cuda = cudaAvailability();
const gpus = cuda.ok ? cuda.devices : 0;

test('NCCL is a CUDA feature: the CPU backend says so', () => {
  assert.throws(() => openBackend('cpu').ncclUniqueId(), /NCCL needs the CUDA backend/);
});

test('NCCL all-reduce (sum, average) and broadcast over 2 GPUs, one process each', { skip: gpus < 2 ? `needs 2 GPUs, found ${gpus}` : false }, async () => {
  const { dir, cleanup } = tempDir();
  const idFile = join(dir, 'nccl.id');
  const worker = new URL('./nccl-worker.ts', import.meta.url).pathname;
  const runs = [0, 1].map(
    (rank) =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', worker, String(rank), '2', idFile], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '', err = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (err += d));
        child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`rank ${rank} exited ${code}: ${err}`))));
      }),
  );
  for (const line of await Promise.all(runs)) {
    const r = JSON.parse(line);
    assert.deepEqual(r.sum, [3, 3], `rank ${r.rank} sum`);
    assert.deepEqual(r.avg, [1.5, 1.5], `rank ${r.rank} average`);
    assert.deepEqual(r.broadcast, [7, 7], `rank ${r.rank} broadcast`);
  }
  cleanup();
});
