// One rank of the rendezvous test: share the id, note when, then block the event loop for a while
// as ncclCommInitRank does. Prints {rank, at, id}.
import { shareId, worldFromEnv } from '../../../lib/train/distributed.js';

const world = worldFromEnv();
const id = await shareId(world, () => Uint8Array.from({ length: 128 }, (_, i) => (i * 3) & 255), 10_000);
const at = Date.now();
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1500);
process.stdout.write(JSON.stringify({ rank: world.rank, at, id: Buffer.from(id).toString('hex') }) + '\n');
