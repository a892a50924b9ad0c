// Hostile programs for the python sandbox, shared by its tests and bench/tools-sandbox.ts: each with
// the cap meant to stop it, and limits short enough that a case takes seconds.
import type { SandboxLimits } from '../../../../lib/infer/tools/sandbox.js';

export interface HostileCase {
  name: string;
  /** The cap that should stop it. */
  cap: string;
  code: string;
  limits: Partial<SandboxLimits>;
}

/** Environment variable the tests set in loom's own environment; no program may see it. */
export const SECRET_NAME = 'LOOM_SANDBOX_TEST_SECRET';
export const SECRET_VALUE = 'hunter2-do-not-leak';
/** A sleep nothing else on the machine runs, to find what a program left behind. */
export const MARKER_SLEEP = '617.25';

export function hostileCases(o: { outsideDir: string; port: number }): HostileCase[] {
  return [
    { name: 'infinite loop', cap: 'CPU time (RLIMIT_CPU → SIGXCPU)', code: 'while True:\n    pass\n', limits: { cpuSeconds: 1, timeoutMs: 15_000 } },
    {
      name: 'sleep in a new session',
      cap: 'wall-clock timeout (kill of the group and the PID namespace)',
      code: `import os, time\nif os.fork() == 0:\n    os.setsid()\n    os.execlp('sleep', 'sleep', '${MARKER_SLEEP}')\ntime.sleep(600)\n`,
      limits: { timeoutMs: 1000 },
    },
    {
      name: 'fork bomb',
      cap: 'processes (RLIMIT_NPROC), then the wall-clock timeout',
      code: 'import os\nhit = False\nwhile True:\n    try:\n        os.fork()\n    except OSError as e:\n        if not hit:\n            hit = True\n            print(e, flush=True)\n',
      limits: { processes: 32, timeoutMs: 2000 },
    },
    { name: 'allocate 10 GB', cap: 'memory (RLIMIT_AS → MemoryError)', code: 'x = bytearray(10 * 1024 ** 3)\nprint("allocated")\n', limits: { memoryBytes: 512 << 20 } },
    { name: 'print 1 GB', cap: 'output size (loom stops reading and kills)', code: 'import sys\nchunk = "x" * (1 << 20)\nfor _ in range(1024):\n    sys.stdout.write(chunk)\n', limits: { outputBytes: 64 << 10 } },
    {
      name: 'write outside its directory',
      cap: 'read-only mounts (mount namespace) and the nobody user',
      code: [
        'import os',
        `for path in [${JSON.stringify(o.outsideDir + '/escaped.txt')}, '/tmp/loom-escaped.txt', '/var/tmp/loom-escaped.txt', '/dev/shm/loom-escaped.txt']:`,
        '    try:',
        '        open(path, "w").write("x")',
        '        print("WROTE", path)',
        '    except OSError as e:',
        '        print("refused", path, e.strerror)',
        'open("inside.txt", "w").write("x" * 100)',
        'print("inside ok", os.path.getsize("inside.txt"))',
        'try:',
        '    open("big.bin", "wb").write(b"x" * (64 << 20))',
        'except OSError as e:',
        '    print("big refused", e.strerror)',
      ].join('\n'),
      limits: { fileBytes: 1 << 20 },
    },
    {
      name: 'read environment secrets',
      cap: 'empty environment (env -i) and a PID namespace hiding loom\'s /proc',
      code: [
        'import os',
        'print(sorted(os.environ))',
        'for pid in [p for p in os.listdir("/proc") if p.isdigit()]:',
        '    try:',
        '        print(pid, open(f"/proc/{pid}/environ", "rb").read().replace(b"\\0", b" ").decode())',
        '    except OSError as e:',
        '        print(pid, e.strerror)',
      ].join('\n'),
      limits: {},
    },
    {
      name: 'open a socket',
      cap: 'network namespace (no interface up)',
      code: [
        'import socket',
        `for host, port in [("127.0.0.1", ${o.port}), ("1.1.1.1", 80)]:`,
        '    try:',
        '        socket.create_connection((host, port), timeout=2)',
        '        print("CONNECTED", host)',
        '    except OSError as e:',
        '        print("refused", host, e)',
      ].join('\n'),
      limits: {},
    },
  ];
}
