import { test } from 'node:test';
import assert from 'node:assert/strict';
import { observation, pythonTool } from '../../../../lib/infer/tools/python.js';
import { DEFAULT_LIMITS } from '../../../../lib/infer/tools/sandbox.js';

const signal = new AbortController().signal;

test('python tool: what the program prints, a traceback as it came, a note when a cap stopped it', async () => {
  const python = pythonTool({ limits: { timeoutMs: 1500 } });
  assert.equal(await python.call({ code: 'print(sum(range(101)))' }, { signal }), '5050');
  assert.equal(await python.call({ code: 'x = 1' }, { signal }), '(no output)');
  assert.match(await python.call({ code: 'print("before")\n1/0' }, { signal }), /^before\nTraceback[\s\S]*ZeroDivisionError: division by zero$/);
  assert.equal(await python.call({ code: 'import time\nprint("started", flush=True)\ntime.sleep(30)' }, { signal }), 'started\n[stopped: over the 1.5 s time limit]');
  await assert.rejects(python.call({ source: 'print(1)' }, { signal }), /"code" must be a string/);
});

test('observation notes each way a run can end', () => {
  const run = { output: 'partial\n', ms: 1, processGroup: 1 };
  assert.equal(observation({ ...run, end: 'output' }, DEFAULT_LIMITS), 'partial\n[stopped: more than 8192 bytes of output]');
  assert.equal(observation({ ...run, end: 'signal', signal: 'SIGXCPU' }, DEFAULT_LIMITS), 'partial\n[stopped: over the 10 s CPU time limit]');
  assert.equal(observation({ ...run, output: '', end: 'signal', signal: 'SIGSEGV' }, DEFAULT_LIMITS), '[killed by SIGSEGV]');
  assert.equal(observation({ ...run, end: 'aborted' }, DEFAULT_LIMITS), 'partial\n[stopped: cancelled]');
  assert.equal(observation({ ...run, end: 'exited', exitCode: 0 }, DEFAULT_LIMITS), 'partial');
});
