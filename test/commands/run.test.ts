import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseJsonl, runLoom, tempDir } from '../helpers/cli.js';

test("loom run executes a TypeScript script that imports 'loom' from any directory, with top-level await and arguments", async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  writeFileSync(
    join(dir, 'pipeline.ts'),
    `import { readDocs, sample, writeJsonl, defineStage, type Doc } from 'loom';
const upper = defineStage('upper', {}, async function* (docs) {
  for await (const doc of docs) yield { ...doc, text: String(doc.text).toUpperCase() } as Doc;
});
const [input, n] = process.argv.slice(2);
await writeJsonl(upper(sample(readDocs([input!]), { n: Number(n), seed: 1 })), process.stdout);
`,
  );
  writeFileSync(join(dir, 'docs.jsonl'), ['a', 'b', 'c', 'd'].map((text, i) => JSON.stringify({ id: i, text })).join('\n'));
  const result = await runLoom(['run', 'pipeline.ts', '--', 'docs.jsonl', '2'], { cwd: dir });
  assert.equal(result.code, 0, result.stderr);
  const docs = parseJsonl(result.stdout);
  assert.equal(docs.length, 2);
  assert.ok(docs.every((d) => /^[A-D]$/.test(d.text as string)));
});

test('loom run on a missing script is a usage error', async () => {
  const result = await runLoom(['run', 'nope.ts']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /nope.ts: no such script/);
});
