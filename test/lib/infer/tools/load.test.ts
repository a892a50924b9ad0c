import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../../../lib/errors.js';
import { loadToolModule, loadTools } from '../../../../lib/infer/tools/load.js';
import { tempDir } from '../../../helpers/cli.js';

const signal = new AbortController().signal;

test('loadTools: built-ins by name, then a TypeScript module importing from loom', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = join(dir, 'shout.ts');
    writeFileSync(
      file,
      `import type { Tool } from 'loom';
import { DEFAULT_SYSTEM_PROMPT } from 'loom';
const shout: Tool = {
  name: 'shout',
  description: 'Upper-cases text.',
  parameters: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
  call: async (args: Record<string, unknown>) => String(args.text).toUpperCase() + ' / ' + DEFAULT_SYSTEM_PROMPT,
};
const echo: Tool = { ...shout, name: 'echo', call: async (args) => String(args.text) };
export default [shout, echo];
`,
    );
    const tools = await loadTools({ names: ['calculator', 'python'], files: [file] });
    assert.deepEqual(tools.map((t) => t.name), ['calculator', 'python', 'shout', 'echo']);
    assert.equal(await tools[2]!.call({ text: 'hi' }, { signal }), 'HI / You are a helpful assistant.');
  } finally {
    cleanup();
  }
});

test('loadTools refuses an unknown built-in, two tools of one name, a missing file and a module exporting no Tool', async () => {
  const { dir, cleanup } = tempDir();
  try {
    await assert.rejects(loadTools({ names: ['shell'], files: [] }), (e) => e instanceof UsageError && /--tools shell: no such tool \(built-ins: python, calculator/.test(e.message));
    const twin = join(dir, 'twin.mjs');
    writeFileSync(twin, `export default { name: 'calculator', description: 'd', parameters: {}, call: async () => '' };\n`);
    await assert.rejects(loadTools({ names: ['calculator'], files: [twin] }), /two tools are named "calculator"/);
    await assert.rejects(loadToolModule(join(dir, 'none.ts')), /none\.ts: no such file/);
    const bad = join(dir, 'bad.mjs');
    writeFileSync(bad, `export default [{ name: 'ok', description: 'd', parameters: {}, call: async () => '' }, { name: 'two words' }];\n`);
    await assert.rejects(loadToolModule(bad), /the default export must be a Tool or an array of Tools .*; item 1 is not/);
  } finally {
    cleanup();
  }
});
