// An ordered parallel map over worker threads, shared by every stage with `--workers`.
//
// The worker module calls `serveTasks(handler)`; the main thread creates a `WorkerPool` with the
// module's URL and calls `map(items)`. Results come back in input order whatever the number of
// workers, so output never depends on `--workers`. At most `maxInFlight` batches are outstanding,
// so a slow consumer slows the producer instead of filling memory. A task that exceeds its time
// budget or runs its worker out of memory is reported as failed (with the reason) and the worker
// is replaced: one bad input never hangs or kills the run. Always `close()` the pool (in a
// `finally`): live workers keep the process running.
//
// A worker module exports its handler and serves it:
//   export function handler(task: Task, init: Init): Result { … }
//   serveTasks(handler);
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

export type TaskResult<R> = { ok: true; value: R } | { ok: false; error: string };

export type TaskHandler<T, R, I> = (task: T, init: I) => R | Promise<R>;

interface BatchMessage<T> {
  id: number;
  tasks: T[];
}
interface ResultMessage<R> {
  id: number;
  results: TaskResult<R>[];
}

const WORKER_MARK = 'loom-worker-pool';
// Sent once the module has loaded; time budgets start only then, not during start-up.
const READY = 'ready';

/**
 * Call from a worker module: serves tasks when the module runs inside a pool's worker thread and
 * does nothing otherwise, so the same module can also be imported for in-process use.
 */
export function serveTasks<T, R, I>(handler: TaskHandler<T, R, I>): void {
  if (isMainThread || !parentPort || (workerData as { mark?: string })?.mark !== WORKER_MARK) return;
  const port = parentPort;
  const init = (workerData as { init: I }).init;
  port.on('message', async ({ id, tasks }: BatchMessage<T>) => {
    const results: TaskResult<R>[] = [];
    for (const task of tasks) results.push(await runTask(handler, task, init));
    port.postMessage({ id, results } satisfies ResultMessage<R>);
  });
  port.postMessage(READY);
}

async function runTask<T, R, I>(handler: TaskHandler<T, R, I>, task: T, init: I): Promise<TaskResult<R>> {
  try {
    return { ok: true, value: await handler(task, init) };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

export interface WorkerPoolOptions<I> {
  /** Worker threads; 0 runs the handler in this thread (same results, no parallelism). */
  workers: number;
  /** Passed to every call of the handler (as structured-clone data). */
  init: I;
  /** Tasks sent per message; larger batches amortize messaging for small tasks. */
  batchSize?: number;
  /** Per-batch time budget; on expiry the worker is replaced and its tasks retried one by one. */
  taskTimeoutMs?: number;
  /** Heap limit per worker thread. */
  maxHeapMb?: number;
  /** Outstanding batches per worker (bounds memory). */
  inFlightPerWorker?: number;
}

interface Slot<R> {
  worker: Worker;
  busy?: { id: number; timer?: NodeJS.Timeout; resolve: (r: TaskResult<R>[]) => void };
}

/** The module URL as it exists on disk: `.js` from dist/, or the `.ts` source when run through tsx. */
export function resolveModuleUrl(url: URL): URL {
  if (existsSync(fileURLToPath(url))) return url;
  const ts = new URL(url.href.replace(/\.js$/, '.ts'));
  if (existsSync(fileURLToPath(ts))) return ts;
  throw new Error(`worker module not found: ${fileURLToPath(url)}`);
}

export class WorkerPool<T, R, I = undefined> {
  private readonly moduleUrl: URL;
  private readonly slots: Slot<R>[] = [];
  private readonly idle: Slot<R>[] = [];
  private readonly waiting: ((slot: Slot<R>) => void)[] = [];
  private nextId = 0;
  private inline?: Promise<TaskHandler<T, R, I>>;

  constructor(moduleUrl: URL, private readonly opts: WorkerPoolOptions<I>) {
    this.moduleUrl = resolveModuleUrl(moduleUrl);
    for (let i = 0; i < opts.workers; i++) this.addSlot();
  }

  /** Maps tasks to results, in input order, with bounded work in flight. */
  async *map(tasks: AsyncIterable<T> | Iterable<T>): AsyncGenerator<TaskResult<R>> {
    const batchSize = this.opts.batchSize ?? 1;
    const maxInFlight = Math.max(1, this.opts.workers) * (this.opts.inFlightPerWorker ?? 2);
    const pending: Promise<TaskResult<R>[]>[] = [];
    let batch: T[] = [];
    for await (const task of tasks) {
      batch.push(task);
      if (batch.length < batchSize) continue;
      pending.push(this.runBatch(batch));
      batch = [];
      while (pending.length >= maxInFlight) yield* await pending.shift()!;
    }
    if (batch.length > 0) pending.push(this.runBatch(batch));
    while (pending.length > 0) yield* await pending.shift()!;
  }

  async close(): Promise<void> {
    const slots = this.slots.splice(0);
    this.idle.length = 0;
    this.waiting.length = 0;
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
  }

  private async runBatch(tasks: T[]): Promise<TaskResult<R>[]> {
    if (this.opts.workers === 0) return this.runInline(tasks);
    const slot = await this.acquire();
    const results = await new Promise<TaskResult<R>[]>((resolve) => {
      const id = this.nextId++;
      const timer = this.opts.taskTimeoutMs
        ? setTimeout(() => this.replace(slot, `timed out after ${this.opts.taskTimeoutMs} ms`), this.opts.taskTimeoutMs)
        : undefined;
      slot.busy = { id, timer, resolve };
      slot.worker.postMessage({ id, tasks } satisfies BatchMessage<T>);
    });
    if (results.length === tasks.length || tasks.length === 1) return results;
    // The worker died mid-batch: retry each task alone so only the culprit fails.
    return (await Promise.all(tasks.map((task) => this.runBatch([task])))).flat();
  }

  private async runInline(tasks: T[]): Promise<TaskResult<R>[]> {
    this.inline ??= loadInlineHandler<T, R, I>(this.moduleUrl);
    const handler = await this.inline;
    const results: TaskResult<R>[] = [];
    for (const task of tasks) results.push(await runTask(handler, task, this.opts.init));
    return results;
  }

  private acquire(): Promise<Slot<R>> {
    const slot = this.idle.pop();
    if (slot) return Promise.resolve(slot);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(slot: Slot<R>): void {
    slot.busy = undefined;
    const next = this.waiting.shift();
    if (next) next(slot);
    else this.idle.push(slot);
  }

  private addSlot(): Slot<R> {
    const worker = new Worker(workerEntry(this.moduleUrl), {
      eval: this.moduleUrl.pathname.endsWith('.ts'),
      workerData: { mark: WORKER_MARK, init: this.opts.init },
      resourceLimits: this.opts.maxHeapMb ? { maxOldGenerationSizeMb: this.opts.maxHeapMb } : undefined,
      // Node would pipe each worker's output into process.stdout and stderr, adding an 'error'
      // listener there per worker (MaxListenersExceededWarning past 10); and stdout carries data.
      stdout: true,
      stderr: true,
    });
    forwardToStderr(worker.stdout);
    forwardToStderr(worker.stderr);
    const slot: Slot<R> = { worker };
    worker.on('message', (message: ResultMessage<R> | typeof READY) => {
      if (message === READY) return this.release(slot);
      const busy = slot.busy;
      if (!busy || busy.id !== message.id) return;
      clearTimeout(busy.timer);
      this.release(slot);
      busy.resolve(message.results);
    });
    worker.on('error', (err) => this.replace(slot, `worker failed: ${err.message}`));
    worker.on('exit', (code) => {
      if (this.slots.includes(slot)) this.replace(slot, `worker exited with code ${code}`);
    });
    this.slots.push(slot);
    return slot;
  }

  /** Drops a stuck or dead worker, fails its batch with `reason`, and starts a fresh one. */
  private replace(slot: Slot<R>, reason: string): void {
    const index = this.slots.indexOf(slot);
    if (index === -1) return;
    this.slots.splice(index, 1);
    void slot.worker.terminate();
    this.addSlot();
    const busy = slot.busy;
    if (busy) {
      clearTimeout(busy.timer);
      busy.resolve([{ ok: false, error: reason }]);
    }
  }
}

/** Whatever a worker prints goes to stderr, written chunk by chunk: no listener on process.stderr. */
function forwardToStderr(stream: NodeJS.ReadableStream): void {
  stream.on('data', (chunk: Buffer) => process.stderr.write(chunk));
}

/**
 * Worker threads do not inherit loaders registered at run time, so a `.ts` module (tests, `loom
 * run`, development through tsx) is loaded by a small bootstrap that registers tsx first.
 */
function workerEntry(url: URL): URL | string {
  if (!url.pathname.endsWith('.ts')) return url;
  const tsx = import.meta.resolve('tsx/esm/api');
  return `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); });`;
}

async function loadInlineHandler<T, R, I>(url: URL): Promise<TaskHandler<T, R, I>> {
  const module = (await import(url.href)) as { handler?: TaskHandler<T, R, I> };
  if (typeof module.handler !== 'function') throw new Error(`${url.href} must export its handler as \`handler\` for in-process use`);
  return module.handler;
}
