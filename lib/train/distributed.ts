// Data parallelism, torchrun-style: one process per GPU, ranks from the environment (RANK,
// WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT), so the same command runs across nodes. Rank 0
// creates the NCCL id and hands it to the others over one TCP connection each.
import { createConnection, createServer, type Socket } from 'node:net';
import type { Backend } from '../../kernels/index.js';
import { UsageError } from '../errors.js';

export interface World {
  rank: number;
  size: number;
  localRank: number;
  masterAddr: string;
  masterPort: number;
}

export const SINGLE: World = { rank: 0, size: 1, localRank: 0, masterAddr: '127.0.0.1', masterPort: 29500 };

export function worldFromEnv(env: NodeJS.ProcessEnv = process.env): World {
  if (env.WORLD_SIZE === undefined) return SINGLE;
  const int = (name: string, fallback?: number) => {
    const raw = env[name];
    const v = raw === undefined ? fallback : Number(raw);
    if (v === undefined || !Number.isInteger(v) || v < 0) throw new UsageError(`${name}=${raw ?? ''}: expected a non-negative integer`);
    return v;
  };
  const world: World = {
    size: int('WORLD_SIZE'),
    rank: int('RANK'),
    localRank: int('LOCAL_RANK', int('RANK')),
    masterAddr: env.MASTER_ADDR ?? '127.0.0.1',
    masterPort: int('MASTER_PORT', 29500),
  };
  if (world.size < 1 || world.rank >= world.size) throw new UsageError(`RANK=${world.rank} is outside WORLD_SIZE=${world.size}`);
  return world;
}

const ID_BYTES = 128;

/** Sets up NCCL across the ranks: rank 0 serves its id on MASTER_PORT until every rank has it. */
export async function connectRanks(k: Backend, world: World, timeoutMs = 120_000): Promise<void> {
  const id = await shareId(world, () => k.ncclUniqueId(), timeoutMs);
  k.ncclInit(world.size, world.rank, id);
}

/** Rank 0 makes the id and serves it until every other rank has fetched it; the others fetch it. */
export async function shareId(world: World, makeId: () => Uint8Array, timeoutMs = 120_000): Promise<Uint8Array> {
  if (world.rank !== 0) return fetchId(world, timeoutMs);
  const id = makeId();
  await serveId(id, world, timeoutMs);
  return id;
}

/**
 * Resolves once every other rank has received the id and closed its connection. Each side goes on
 * into ncclCommInitRank, a native call that blocks the event loop until all ranks have joined, so
 * neither may leave before the event loop has sent what the other waits for: rank 0 the id, the
 * others the close that tells rank 0 they have it.
 */
function serveId(id: Uint8Array, world: World, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let served = 0;
    const server = createServer((socket: Socket) => {
      socket.on('error', () => {});
      socket.on('close', () => {
        if (++served === world.size - 1) {
          clearTimeout(timer);
          server.close();
          resolve();
        }
      });
      socket.end(Buffer.from(id));
    });
    const timer = setTimeout(() => {
      server.close();
      reject(new Error(`rank 0: only ${served} of ${world.size - 1} ranks connected to port ${world.masterPort} within ${timeoutMs / 1000}s`));
    }, timeoutMs);
    server.on('error', (err) => reject(new Error(`rank 0: cannot listen on port ${world.masterPort}: ${err.message} (set MASTER_PORT)`)));
    server.listen(world.masterPort);
  });
}

async function fetchId(world: World, timeoutMs: number): Promise<Uint8Array> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await new Promise<Uint8Array>((resolve, reject) => {
        const chunks: Buffer[] = [];
        const socket = createConnection({ host: world.masterAddr, port: world.masterPort });
        socket.on('data', (c: Buffer) => chunks.push(c));
        socket.on('error', reject);
        // Only once closed: our end of the connection has then reached rank 0, which waits for it
        // before its own blocking ncclCommInitRank (see serveId).
        socket.on('close', (hadError) => {
          const id = Buffer.concat(chunks);
          if (!hadError && id.length === ID_BYTES) resolve(new Uint8Array(id));
          else reject(new Error(`got ${id.length} of ${ID_BYTES} bytes`));
        });
      });
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`rank ${world.rank}: cannot reach rank 0 at ${world.masterAddr}:${world.masterPort}: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/**
 * `--gpus N`: runs this same command once per GPU (without --gpus), each with its rank in the
 * environment and --device cuda:LOCAL_RANK. Resolves with the first failing exit code, or 0.
 */
export async function launchLocal(gpus: number, args: string[], port: number): Promise<number> {
  const { execa } = await import('execa');
  const childArgs = stripGpus(args);
  const children = Array.from({ length: gpus }, (_, rank) =>
    execa(process.execPath, [...process.execArgv, process.argv[1]!, ...childArgs, '--device', `cuda:${rank}`], {
      env: { RANK: String(rank), LOCAL_RANK: String(rank), WORLD_SIZE: String(gpus), MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port) },
      stdio: ['ignore', rank === 0 ? 'inherit' : 'ignore', 'inherit'],
      reject: false,
    }),
  );
  const forward = (signal: NodeJS.Signals) => () => children.forEach((c) => c.kill(signal));
  const onInt = forward('SIGINT'), onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    let code = 0;
    await Promise.all(
      children.map(async (child) => {
        const r = await child;
        const c = r.exitCode ?? 1;
        if (c !== 0 && code === 0) {
          code = c;
          // The others may be blocked waiting for the failed rank (rendezvous, NCCL): end them.
          for (const other of children) {
            if (other === child) continue;
            other.kill('SIGTERM');
            setTimeout(() => other.kill('SIGKILL'), 10_000).unref();
          }
        }
      }),
    );
    return code;
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}

function stripGpus(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--gpus') i++;
    else if (a.startsWith('--gpus=')) continue;
    else if (a === '--device') i++;
    else if (a.startsWith('--device=')) continue;
    else out.push(a);
  }
  return out;
}
