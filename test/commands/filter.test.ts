import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseJsonl, runLoom, tempDir } from '../helpers/cli.js';

// As `loom score` writes them: scores.* numbers and flags {name: reason}; an unknown field with exact text.
const input = [
  '{"id":"a","text":"Kept.","lang":"en","lang_score":0.97,"scores":{"quality":0.81,"perplexity":212.5},"big":12345678901234567891}',
  '{"id":"b","text":"Low quality.","lang":"en","lang_score":0.95,"scores":{"quality":0.12,"perplexity":301}}',
  '{"id":"c","text":"人人生而自由。","lang":"zh","lang_score":1,"scores":{"quality":0.7,"perplexity":95},"flags":{"offensive":"p=0.93"}}',
  '{"id":"d","text":"Boilerplate boilerplate.","lang":"en","lang_score":0.9,"scores":{"quality":0.9,"perplexity":4100}}',
  '{"id":"e","text":"Never scored.","lang":"en","lang_score":0.9}',
  '{"id":"f","text":"Der Haushalt.","lang":"de","lang_score":0.99,"scores":{"quality":0.9,"perplexity":150}}',
].join('\n') + '\n';

test('filter keeps what passes byte for byte; each drop goes to --rejects with its reason, and the summary counts them', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const rejects = join(dir, 'rejects.jsonl');
  const args = ['filter', '--min', 'quality=0.5', '--max', 'scores.perplexity=1000', '--drop-flag', 'offensive', '--langs', 'en,zh', '--rejects', rejects];
  const result = await runLoom(args, { input });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, input.split('\n')[0] + '\n');
  assert.deepEqual(
    parseJsonl(readFileSync(rejects, 'utf8')).map((r) => [r.reason, r.stage, r.line, (r.record as { id: string }).id]),
    [
      ['scores.quality < 0.5', 'filter', 2, 'b'],
      ['flag offensive', 'filter', 3, 'c'],
      ['scores.perplexity > 1000', 'filter', 4, 'd'],
      ['missing scores.quality', 'filter', 5, 'e'],
      ['language', 'filter', 6, 'f'],
    ],
  );
  assert.match(result.stderr, /loom filter: 6 in · 1 out · 0 rejected lines · 5 dropped \(1 flag offensive, 1 language, 1 missing scores\.quality, 1 scores\.perplexity > 1000, 1 scores\.quality < 0\.5\)/);
});

test("filter --missing keep passes unscored documents; --drop-flag '*' drops any flag", async () => {
  const result = await runLoom(['filter', '--min', 'quality=0.5', '--missing', 'keep', '--drop-flag', '*', '--quiet'], { input });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(parseJsonl(result.stdout).map((d) => d.id), ['a', 'd', 'e', 'f']);
});

test('filter usage errors exit 2 before reading', async () => {
  const result = await runLoom(['filter', '--min', 'quality'], { input });
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /--min must be FIELD=NUMBER \(like scores\.quality=0\.5\), got "quality"/);
});
