import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseJsonl, runLoom, tempDir } from '../helpers/cli.js';

const input = [
  { id: 1, text: 'The committee approved the new budget after a long debate on Tuesday evening.' },
  { id: 2, text: '人人有权享有生命、自由和人身安全。' },
  { id: 3, text: 'Der Ausschuss hat den neuen Haushalt nach einer langen Debatte gebilligt.', lang: 'xx' },
  { id: 4, text: 'Все люди рождаются свободными и равными в своем достоинстве и правах.' },
].map((d) => JSON.stringify(d)).join('\n') + '\n';

test('langid tags every document from stdin', async () => {
  const result = await runLoom(['langid'], { input });
  assert.equal(result.code, 0, result.stderr);
  const docs = parseJsonl(result.stdout);
  assert.deepEqual(docs.map((d) => d.lang), ['en', 'zh', 'de', 'ru']);
  assert.ok(docs.every((d) => (d.lang_score as number) > 0.65 && (d.lang_score as number) <= 1));
});

test('--langs and --min-lang-score filter, dropped documents go to --rejects', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const rejects = join(dir, 'rejects.jsonl');
  const result = await runLoom(['langid', '--langs', 'zh,en', '--min-lang-score', '0.65', '--rejects', rejects], { input });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(parseJsonl(result.stdout).map((d) => d.id), [1, 2]);
  const rejected = parseJsonl(readFileSync(rejects, 'utf8'));
  assert.deepEqual(rejected.map((r) => [r.reason, r.stage, r.line, (r.record as { lang: string }).lang]), [['language', 'langid', 3, 'de'], ['language', 'langid', 4, 'ru']]);
});

test('--keep-existing leaves lang that documents already have', async () => {
  const result = await runLoom(['langid', '--keep-existing'], { input });
  assert.deepEqual(parseJsonl(result.stdout).map((d) => d.lang), ['en', 'zh', 'xx', 'ru']);
});
