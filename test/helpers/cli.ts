import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const LOOM_BIN = join(ROOT, 'bin', 'loom.ts');
// By URL, so the CLI can run from any working directory.
const TSX = import.meta.resolve('tsx');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  input?: string | Buffer;
  env?: Record<string, string | undefined>;
  cwd?: string;
}

/** Runs the real `loom` CLI (from source, through tsx) and collects its output. */
export function runLoom(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, LOOM_BIN, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, CI: 'true', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => stdout.push(c));
    child.stderr.on('data', (c: Buffer) => stderr.push(c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() }));
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

/** A `loom` process started with spawnLoom, watched while it runs (to signal or kill it midway). */
export interface LoomProcess {
  readonly child: ChildProcess;
  /** Output so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** Settles when the process has exited and its output is read. */
  readonly closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Polls `ready` every 10 ms until it holds; rejects if the process exits first or after `timeoutMs`. */
  until(ready: () => boolean, timeoutMs?: number): Promise<void>;
}

/** Starts the real `loom` CLI (stdin ignored) without waiting for it. */
export function spawnLoom(args: string[], opts: Omit<CliOptions, 'input'> = {}): LoomProcess {
  const child = spawn(process.execPath, ['--import', TSX, LOOM_BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, CI: 'true', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '', stderr = '', exited = false;
  child.stdout!.on('data', (c: Buffer) => (stdout += c));
  child.stderr!.on('data', (c: Buffer) => (stderr += c));
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      exited = true;
      resolve({ code, signal });
    });
  });
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    closed,
    until(ready, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      return new Promise((resolve, reject) => {
        const poll = () => {
          if (ready()) return resolve();
          if (exited) return reject(new Error(`loom ${args[0]} exited before the awaited condition:\n${stderr}`));
          if (Date.now() > deadline) return reject(new Error(`loom ${args[0]}: condition not met within ${timeoutMs} ms:\n${stderr}`));
          setTimeout(poll, 10);
        };
        poll();
      });
    },
  };
}

/** A fresh temporary directory, removed when `cleanup` runs (pass it to t.after). */
export function tempDir(prefix = 'loom-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Parses JSONL text into records. */
export function parseJsonl(text: string): Record<string, unknown>[] {
  return text.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line));
}
