// The `python` tool: the model's code runs in the sandbox (sandbox.ts) and its output, with a note
// when a cap stopped it, is what the model observes.
import { DEFAULT_LIMITS, runPython, type SandboxLimits, type SandboxResult } from './sandbox.js';
import type { Tool } from './types.js';

export interface PythonToolOptions {
  limits?: Partial<SandboxLimits>;
  /** The interpreter, found on the sandbox's PATH (/usr/local/bin:/usr/bin:/bin). */
  python?: string;
}

export function pythonTool(o: PythonToolOptions = {}): Tool {
  const limits = { ...DEFAULT_LIMITS, ...o.limits };
  return {
    name: 'python',
    description: 'Runs a Python 3 program in a sandbox (no network, no files kept between calls) and returns what it prints; print every result you want to see.',
    parameters: { type: 'object', properties: { code: { type: 'string', description: 'The program' } }, required: ['code'] },
    async call(args, ctx) {
      if (typeof args.code !== 'string') throw new Error('"code" must be a string');
      return observation(await runPython(args.code, { limits, signal: ctx.signal, python: o.python }), limits);
    },
  };
}

/** The output, then what stopped the program when it did not simply finish. */
export function observation(result: SandboxResult, limits: SandboxLimits): string {
  const output = result.output.trimEnd();
  const note = stopNote(result, limits);
  if (note) return output === '' ? note : `${output}\n${note}`;
  return output === '' ? '(no output)' : output;
}

function stopNote(result: SandboxResult, limits: SandboxLimits): string | undefined {
  switch (result.end) {
    case 'timeout':
      return `[stopped: over the ${limits.timeoutMs / 1000} s time limit]`;
    case 'output':
      return `[stopped: more than ${limits.outputBytes} bytes of output]`;
    case 'aborted':
      return '[stopped: cancelled]';
    case 'signal':
      return result.signal === 'SIGXCPU' ? `[stopped: over the ${limits.cpuSeconds} s CPU time limit]` : `[killed by ${result.signal}]`;
    case 'exited':
      return undefined;
  }
}
