// Runs untrusted Python (code a model wrote) in a subprocess with caps, on Linux, through tools from
// util-linux that Debian always has. The layers, outermost first:
//   unshare   new network, mount and PID namespaces (a user namespace too when loom is not root):
//             no network but a loopback that is down; when the namespace's first process ends, the
//             kernel kills every process left in it, so nothing escapes by leaving its group.
//   sh        inside: every mount made read-only, then a fresh size-capped tmpfs mounted over the
//             working directory (the only writable place), the code written there as main.py.
//   timeout   kills Python after the wall-clock limit even if loom itself died meanwhile.
//   nice      lowest priority, so the sandbox's CPU use cannot slow loom down.
//   setpriv   when loom runs as root: drop to nobody (root ignores RLIMIT_NPROC and file modes).
//   prlimit   RLIMIT_AS (memory), RLIMIT_CPU, RLIMIT_NPROC, RLIMIT_FSIZE, no core files.
//   env -i    Python sees PATH, LANG, HOME and TMPDIR only (both the working directory).
// loom starts it in its own process group (detached), reads at most outputBytes of its output and
// kills the whole group on the wall-clock limit, on too much output, or on abort. Where namespaces
// are refused (containers without the privilege), the same runs without the unshare layer, and
// isolation() says what that leaves unenforced; docs/tools.md has the full account.
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, constants, tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SandboxLimits {
  /** Wall clock, from start to kill. */
  timeoutMs: number;
  /** CPU seconds (RLIMIT_CPU: SIGXCPU, then SIGKILL a second later). */
  cpuSeconds: number;
  /** Address space (RLIMIT_AS): an allocation beyond it fails (MemoryError in Python). */
  memoryBytes: number;
  /** Processes of the sandbox's user (RLIMIT_NPROC): fork fails beyond it. */
  processes: number;
  /** Largest file (RLIMIT_FSIZE), and the size of the working directory's tmpfs. */
  fileBytes: number;
  /** stdout and stderr kept; the run is killed once it writes more. */
  outputBytes: number;
}

export const DEFAULT_LIMITS: SandboxLimits = {
  timeoutMs: 10_000,
  cpuSeconds: 10,
  memoryBytes: 1 << 30,
  processes: 64,
  fileBytes: 16 << 20,
  outputBytes: 8 << 10,
};

/** What ended a run: the code itself (exited, or a signal such as SIGXCPU), or loom killing it. */
export type SandboxEnd = 'exited' | 'signal' | 'timeout' | 'output' | 'aborted';

export interface SandboxResult {
  /** stdout and stderr as they came, cut at outputBytes. */
  output: string;
  end: SandboxEnd;
  exitCode?: number;
  /** The signal that ended Python (end 'signal'), e.g. SIGXCPU for the CPU cap. */
  signal?: string;
  ms: number;
  /** The run's process group; none of its processes is alive once the result is returned. */
  processGroup: number;
}

/** How runs are isolated on this machine, found once by trying. */
export interface Isolation {
  /** Namespaces: no network, a read-only file system but the working directory, no process outlives the run. */
  namespaces: boolean;
  /** Python runs as nobody (loom is root), so RLIMIT_NPROC and file modes hold. */
  nobody: boolean;
  /** Why namespaces are off, when they are. */
  reason?: string;
}

/** A minimal PATH: the system's Python, never a user's shims. */
const PATH = '/usr/local/bin:/usr/bin:/bin';
const NOBODY = 65534;
/** How long output may still arrive after the wrapper exited. */
const OUTPUT_GRACE_MS = 200;
/** How long the killed group's processes may take to die (SIGKILL lands asynchronously, a fork bomb's hundreds at a time). */
const GROUP_END_MS = 5000;
/** Mount points the sandbox cannot make read-only (mountinfo escapes spaces as \040): skipped. */
const REMOUNT_ALL_READ_ONLY = `awk '{print $5}' /proc/self/mountinfo | grep -v '\\\\' | while read -r m; do mount -o remount,bind,ro "$m" 2>/dev/null || true; done`;

let probed: Promise<Isolation> | undefined;
/** Runs at once: a batch of samples all calling Python queue here rather than crowd the CPU cores. */
const MOST_AT_ONCE = availableParallelism();
let active = 0;
const queued: (() => void)[] = [];
/** Process groups of runs in flight, killed if loom exits first. */
const running = new Set<number>();

/** How this machine isolates runs (probed on first use, then cached). */
export function isolation(python = 'python3'): Promise<Isolation> {
  probed ??= probe(python);
  return probed;
}

/** Runs `code` with Python under the limits; never rejects for anything the code does. */
export async function runPython(
  code: string,
  o: { limits?: Partial<SandboxLimits>; signal?: AbortSignal; python?: string; /** A weaker isolation than the machine's (tests of the fallback). */ isolation?: Isolation } = {},
): Promise<SandboxResult> {
  const how = o.isolation ?? (await isolation(o.python));
  if (active < MOST_AT_ONCE) active += 1;
  else await new Promise<void>((resolve) => queued.push(resolve));
  try {
    return await run(code, { ...DEFAULT_LIMITS, ...o.limits }, how, o.python ?? 'python3', o.signal);
  } finally {
    const next = queued.shift();
    if (next) next();
    else active -= 1;
  }
}

async function probe(python: string): Promise<Isolation> {
  const nobody = process.getuid?.() === 0;
  const limits = { ...DEFAULT_LIMITS, timeoutMs: 20_000 };
  const tried = await run('print(1)', limits, { namespaces: true, nobody }, python);
  if (tried.end === 'exited' && tried.exitCode === 0) return { namespaces: true, nobody };
  const plain = await run('print(1)', limits, { namespaces: false, nobody }, python);
  if (plain.end !== 'exited' || plain.exitCode !== 0) throw new Error(`the python sandbox cannot run ${python} (it needs Linux with util-linux's prlimit): ${plain.output.trim() || plain.end}`);
  return { namespaces: false, nobody, reason: tried.output.trim().split('\n').at(-1) || `unshare ended with ${tried.end}` };
}

async function run(code: string, limits: SandboxLimits, how: Isolation, python: string, signal?: AbortSignal): Promise<SandboxResult> {
  const started = performance.now();
  const dir = await mkdtemp(join(tmpdir(), 'loom-python-'));
  try {
    const { execa } = await import('execa');
    const [command, ...args] = commandLine(limits, how, python);
    const child = execa(command!, [...args, dir], {
      cwd: dir,
      env: { PATH, LANG: 'C.UTF-8', HOME: dir, TMPDIR: dir },
      extendEnv: false,
      input: code,
      all: true,
      buffer: false,
      reject: false,
      detached: true,
      cleanup: false,
    });
    const group = child.pid!;
    if (running.size === 0) process.once('exit', killRunning);
    running.add(group);
    let end: SandboxEnd | undefined;
    const stop = (why: SandboxEnd) => {
      end ??= why;
      killGroup(group);
    };
    const chunks: Buffer[] = [];
    let kept = 0;
    child.all!.on('data', (chunk: Buffer) => {
      if (kept >= limits.outputBytes) return;
      chunks.push(chunk.subarray(0, limits.outputBytes - kept));
      kept += Math.min(chunk.length, limits.outputBytes - kept);
      if (kept >= limits.outputBytes) stop('output');
    });
    const timer = setTimeout(() => stop('timeout'), limits.timeoutMs);
    const onAbort = () => stop('aborted');
    signal?.addEventListener('abort', onAbort);
    if (signal?.aborted) stop('aborted');
    // The wrapper's exit, not the end of its output: a process that escaped the group (no PID
    // namespace) may hold the pipe open for as long as it lives.
    const [exitCode, killedBy] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    // Whatever the code left running in its group goes with it.
    killGroup(group);
    await groupEnd(group, GROUP_END_MS);
    running.delete(group);
    if (running.size === 0) process.off('exit', killRunning);
    await outputEnd(child.all!, OUTPUT_GRACE_MS);
    child.all!.destroy();
    await child.catch(() => undefined);
    const status = exitStatus(exitCode ?? undefined, killedBy ?? undefined);
    return { output: Buffer.concat(chunks).toString('utf8'), end: end ?? (status.signal ? 'signal' : 'exited'), ...status, ms: performance.now() - started, processGroup: group };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The end of a stream, or undefined after `ms` (output still held open by an escaped process). */
function outputEnd(stream: NodeJS.ReadableStream, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    stream.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Resolves once no live process is left in the group (zombies no longer run), or after `ms`. */
async function groupEnd(group: number, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  while (groupAlive(group) && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
}

function groupAlive(group: number): boolean {
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // After the command name's closing parenthesis: state, ppid, pgrp.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === group && state !== 'Z' && state !== 'X') return true;
  }
  return false;
}

/** The wrapper's command line; the working directory comes last (the shell's $1). */
function commandLine(limits: SandboxLimits, how: Isolation, python: string): string[] {
  const owner = how.nobody ? `,uid=${NOBODY},gid=${NOBODY}` : '';
  const setup = how.namespaces
    ? [REMOUNT_ALL_READ_ONLY, `mount -t tmpfs -o size=${limits.fileBytes},mode=0700${owner} loom-python "$1"`]
    : how.nobody
      ? [`chown ${NOBODY}:${NOBODY} "$1"`]
      : [];
  const seconds = Math.ceil(limits.timeoutMs / 1000) + 1;
  const user = how.nobody ? [`setpriv --reuid=${NOBODY} --regid=${NOBODY} --clear-groups --no-new-privs`] : [];
  const rlimits = `prlimit --as=${limits.memoryBytes} --cpu=${limits.cpuSeconds}:${limits.cpuSeconds + 1} --nproc=${limits.processes} --fsize=${limits.fileBytes} --core=0 --`;
  const script = [
    'set -e',
    ...setup,
    'cd "$1"',
    'cat > main.py',
    'set +e',
    // Not exec: Python must not be the namespace's first process, which ignores SIGXCPU.
    [`env -i PATH="$PATH" LANG="$LANG" HOME="$HOME" TMPDIR="$TMPDIR"`, `timeout -s KILL ${seconds}`, 'nice -n 19', ...user, rlimits, python, 'main.py </dev/null'].join(' '),
    'exit $?',
  ].join('\n');
  const namespaces = how.namespaces ? ['unshare', ...(how.nobody ? [] : ['--map-root-user']), '--net', '--mount', '--pid', '--fork', '--kill-child', '--mount-proc', '--'] : [];
  return [...namespaces, 'sh', '-c', script, 'sh'];
}

/** The exit code, or the signal when the shell reports one (128 + its number). */
function exitStatus(code: number | undefined, signal: string | undefined): { exitCode?: number; signal?: string } {
  if (signal) return { signal };
  if (code === undefined || code <= 128) return { exitCode: code };
  const name = Object.entries(constants.signals).find(([, n]) => n === code - 128)?.[0];
  return name ? { signal: name } : { exitCode: code };
}

function killGroup(group: number): void {
  try {
    process.kill(-group, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function killRunning(): void {
  for (const group of running) killGroup(group);
}
