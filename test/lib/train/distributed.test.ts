import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { shareId, worldFromEnv, type World } from '../../../lib/train/distributed.js';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

test('ranks come from the torchrun environment; bad values are usage errors', () => {
  assert.deepEqual(worldFromEnv({}), { rank: 0, size: 1, localRank: 0, masterAddr: '127.0.0.1', masterPort: 29500 });
  assert.deepEqual(worldFromEnv({ WORLD_SIZE: '4', RANK: '3', LOCAL_RANK: '1', MASTER_ADDR: 'node0', MASTER_PORT: '1234' }), { rank: 3, size: 4, localRank: 1, masterAddr: 'node0', masterPort: 1234 });
  assert.throws(() => worldFromEnv({ WORLD_SIZE: '2', RANK: '2' }), /RANK=2 is outside WORLD_SIZE=2/);
  assert.throws(() => worldFromEnv({ WORLD_SIZE: '2', RANK: 'x' }), /RANK=x: expected a non-negative integer/);
});

test('rank 0 hands its NCCL id to every other rank over TCP, whoever starts first', async () => {
  const port = await freePort();
  const world = (rank: number): World => ({ rank, size: 3, localRank: rank, masterAddr: '127.0.0.1', masterPort: port });
  const id = Uint8Array.from({ length: 128 }, (_, i) => (i * 7) & 255);
  // Other ranks start before rank 0 listens: they retry until it does.
  const others = [1, 2].map((r) => shareId(world(r), () => assert.fail('only rank 0 makes the id'), 5000));
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(await shareId(world(0), () => id, 5000), id);
  for (const got of await Promise.all(others)) assert.deepEqual(got, id);
});

test('no rank leaves the exchange before the others have what they wait for (ranks then block in NCCL)', async () => {
  const port = await freePort();
  const worker = fileURLToPath(new URL('./rendezvous-worker.ts', import.meta.url));
  const rank = (r: number) =>
    new Promise<{ rank: number; at: number; id: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', worker], { env: { ...process.env, WORLD_SIZE: '2', RANK: String(r), MASTER_PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c));
      child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`rank ${r} exited ${code}`))));
    });
  const [r0, r1] = await Promise.all([rank(0), rank(1)]);
  assert.equal(r0.id, r1.id);
  // Each rank blocks its event loop for 1.5 s after the exchange: had either left early, the
  // other would have finished the exchange only after that block.
  assert.ok(Math.abs(r0.at - r1.at) < 1000, `rank 0 at ${r0.at}, rank 1 at ${r1.at}`);
});
