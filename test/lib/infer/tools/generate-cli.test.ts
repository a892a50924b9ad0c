// `loom generate --tools` end to end on a tiny CPU checkpoint. The tiny model cannot follow the
// ReAct format, so this checks the wiring (flags, tool loading, the record's fields); the
// tool-using conversations themselves are tested with scripted models (react.test.ts, generate-tools.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tinyChatBase } from '../../../helpers/chat-base.js';
import { parseJsonl, runLoom, tempDir } from '../../../helpers/cli.js';

test('loom generate --tools: records with the answer and the trace; unknown tools refused before any work', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const base = await tinyChatBase(dir);
  const tool = join(dir, 'echo.mjs');
  writeFileSync(tool, `export default { name: 'echo', description: 'Says it back.', parameters: { type: 'object', properties: { text: { type: 'string' } } }, call: async (a) => String(a.text) };\n`);
  const run = await runLoom(['generate', base, 'What is 2 plus 3?', '--tools', 'calculator', '--tool', tool, '--json', '-t', '0', '--max-len', '1024', '--max-new-tokens', '8', '--device', 'cpu', '--quiet']);
  assert.equal(run.code, 0, run.stderr);
  const [record] = parseJsonl(run.stdout);
  assert.deepEqual(Object.keys(record!), ['prompt', 'completion', 'finish_reason', 'prompt_tokens', 'completion_tokens', 'trace']);
  assert.ok(Array.isArray(record!.trace));
  // The ReAct question with both tools is far longer than the question alone.
  assert.ok((record!.prompt_tokens as number) > 200, `prompt of ${record!.prompt_tokens} tokens`);

  const unknown = await runLoom(['generate', base, 'Hi', '--tools', 'shell', '--device', 'cpu']);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /--tools shell: no such tool \(built-ins: python, calculator/);
  const withStop = await runLoom(['generate', base, 'Hi', '--tools', 'python', '--stop', 'x', '--device', 'cpu']);
  assert.match(withStop.stderr, /--stop cannot go with tools/);
});
