// One rank of the NCCL test (test/kernels/nccl.test.ts): argv = rank world idFile.
// Rank 0 writes the NCCL id to idFile; the others wait for it, as a launcher would share it.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { openBackend } from '../../kernels/index.js';

const [rank, world] = process.argv.slice(2, 4).map(Number);
const idFile = process.argv[4];
const k = openBackend(`cuda:${rank}`);
let id: Uint8Array;
if (rank === 0) {
  id = k.ncclUniqueId();
  writeFileSync(idFile + '.tmp', id);
  renameSync(idFile + '.tmp', idFile);
} else {
  const until = Date.now() + 60_000;
  while (!existsSync(idFile)) {
    if (Date.now() > until) throw new Error('no NCCL id from rank 0');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  }
  id = new Uint8Array(readFileSync(idFile));
}
k.ncclInit(world, rank, id);
const n = 1 << 20;
const t = k.alloc([n]);
k.fill(t, rank + 1);
k.allReduce(t);
const sum = k.toFloat32(t);
k.fill(t, rank + 1);
k.allReduce(t, true);
const avg = k.toFloat32(t);
const b = k.alloc([n], 'bf16');
k.fill(b, rank === 0 ? 7 : -1);
k.broadcast(b, 0);
const bc = k.toFloat32(b);
k.ncclDestroy();
process.stdout.write(JSON.stringify({ rank, sum: [sum[0], sum[n - 1]], avg: [avg[0], avg[n - 1]], broadcast: [bc[0], bc[n - 1]] }) + '\n');
