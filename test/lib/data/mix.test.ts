import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Doc } from '../../../lib/io/types.js';
import { allocate, mix, NO_SOURCE, parseSourceSpec, type MixInput, type MixOptions, type MixReport } from '../../../lib/data/mix.js';

/** Sources held in memory, read again from the start on every pass, as files are. */
function memoryInput(sources: Record<string, Doc[]>): MixInput & { passes: Record<string, number> } {
  const passes: Record<string, number> = {};
  return {
    passes,
    async *scan() {
      for (const [source, docs] of Object.entries(sources)) for (const doc of docs) yield { source, doc: { ...doc } };
    },
    async *reread(source) {
      passes[source] = (passes[source] ?? 0) + 1;
      for (const doc of sources[source]!) yield { ...doc };
    },
  };
}

const docs = (prefix: string, n: number, text = 'x'): Doc[] => Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}`, text }));
const WEB = docs('w', 1000, 'web page');
const BOOKS = docs('b', 100, 'a long book chapter '.repeat(10));

async function run(input: MixInput, opts: Partial<MixOptions> & Pick<MixOptions, 'weights'>) {
  const report: Partial<MixReport> = {};
  const out: Doc[] = [];
  for await (const doc of mix(input, { unit: 'docs', maxEpochs: 4, seed: 0, ...opts }, report)) out.push(doc);
  return { out, report: report as MixReport, ids: out.map((d) => d.id as string) };
}

const source = (report: MixReport, name: string) => report.sources.find((s) => s.name === name)!;

test('source specs: NAME=INPUT[:WEIGHT], the weight 1 by default; a path keeps its colons', () => {
  assert.deepEqual(parseSourceSpec('web=data/web.jsonl.gz:1'), { name: 'web', input: 'data/web.jsonl.gz', weight: 1 });
  assert.deepEqual(parseSourceSpec('books=books.jsonl:2.5'), { name: 'books', input: 'books.jsonl', weight: 2.5 });
  assert.deepEqual(parseSourceSpec('code=code/'), { name: 'code', input: 'code/', weight: 1 });
  assert.deepEqual(parseSourceSpec('x=c:/data/a.jsonl:0'), { name: 'x', input: 'c:/data/a.jsonl', weight: 0 });
  assert.equal(parseSourceSpec('docs.jsonl'), undefined);
  assert.equal(parseSourceSpec('data/a=b.jsonl'), undefined, 'a path with = is a plain input');
});

test('allocation fills sources to their weights; a capped source gives its shortfall to the others by weight', () => {
  assert.deepEqual(allocate([1, 1], [1e9, 1e9], 100), [50, 50]);
  assert.deepEqual(allocate([1, 3], [4000, 400], 1100), [700, 400]);
  assert.deepEqual(allocate([1, 1, 2], [10, 1e9, 1e9], 100), [10, 30, 60]);
  assert.deepEqual(allocate([1, 1], [10, 20], 100), [10, 20], 'every source capped: the total is not reached');
  assert.deepEqual(allocate([0, 1], [1e9, 1e9], 100), [0, 100]);
});

test('down-sampling draws exactly the planned documents: no repeats, every source in its input order', async () => {
  const { out, report, ids } = await run(memoryInput({ web: WEB, books: BOOKS }), { weights: new Map([['web', 1], ['books', 1]]), total: 100 });
  assert.equal(out.length, 100);
  assert.equal(new Set(ids).size, 100);
  assert.deepEqual([source(report, 'web').docs_out, source(report, 'books').docs_out], [50, 50]);
  assert.deepEqual([source(report, 'web').share, source(report, 'books').share], [0.5, 0.5]);
  const web = ids.filter((id) => id.startsWith('w')).map((id) => Number(id.slice(1)));
  assert.deepEqual(web, [...web].sort((a, b) => a - b));
});

test('up-sampling repeats whole epochs plus a random part, capped at --max-epochs; the others fill the total', async () => {
  const input = memoryInput({ web: WEB, books: BOOKS });
  const { out, report, ids } = await run(input, { weights: new Map([['web', 1], ['books', 1]]) });
  const books = source(report, 'books'), web = source(report, 'web');
  assert.equal(report.total, 1100, 'default size: the sources together');
  assert.equal(out.length, 1100);
  assert.deepEqual([books.epochs, books.capped, books.docs_out], [4, true, 400]);
  assert.deepEqual([web.epochs, web.capped, web.docs_out], [0.7, false, 700]);
  assert.deepEqual(input.passes, { books: 4, web: 1 }, 'one pass per epoch');
  const copies = new Map<string, number>();
  for (const id of ids) copies.set(id, (copies.get(id) ?? 0) + 1);
  assert.ok(BOOKS.every((d) => copies.get(d.id!) === 4), 'every book exactly 4 times');
  assert.equal(report.uncapped_total, 800, 'at 800 documents, 400 books meet their half');

  const partial = await run(memoryInput({ web: WEB, books: BOOKS }), { weights: new Map([['web', 1], ['books', 1]]), total: 500 });
  assert.deepEqual([source(partial.report, 'books').epochs, source(partial.report, 'books').docs_out], [2.5, 250]);
  const bookCopies = new Map<string, number>();
  for (const id of partial.ids.filter((i) => i.startsWith('b'))) bookCopies.set(id, (bookCopies.get(id) ?? 0) + 1);
  assert.deepEqual([...bookCopies.values()].sort().filter((n, i, a) => a.indexOf(n) === i), [2, 3], '2 epochs, then half the books a third time');
  assert.equal([...bookCopies.values()].filter((n) => n === 3).length, 50);
});

test('sources are interleaved at random, so every stretch of the output has about the target shares', async () => {
  const { ids } = await run(memoryInput({ web: WEB, books: BOOKS }), { weights: new Map([['web', 3], ['books', 1]]), total: 400 });
  for (let start = 0; start < 400; start += 100) {
    const books = ids.slice(start, start + 100).filter((id) => id.startsWith('b')).length;
    assert.ok(books >= 12 && books <= 38, `books in output ${start}-${start + 99}: ${books} (target 25)`);
  }
});

test('the same seed gives the same mix; another seed another', async () => {
  const weights = new Map([['web', 1], ['books', 2]]);
  const a = await run(memoryInput({ web: WEB, books: BOOKS }), { weights, total: 300, seed: 7 });
  const b = await run(memoryInput({ web: WEB, books: BOOKS }), { weights, total: 300, seed: 7 });
  const c = await run(memoryInput({ web: WEB, books: BOOKS }), { weights, total: 300, seed: 8 });
  assert.deepEqual(a.ids, b.ids);
  assert.notDeepEqual(a.ids, c.ids);
});

test('--unit bytes sets shares of text bytes', async () => {
  // A book is 200 bytes, a web page 8: half the bytes are 500 web pages (4000 B) and 20 books (4000 B).
  const { report } = await run(memoryInput({ web: WEB, books: BOOKS }), { weights: new Map([['web', 1], ['books', 1]]), unit: 'bytes', total: 8000 });
  assert.deepEqual([source(report, 'web').docs_out, source(report, 'books').docs_out], [500, 20]);
  assert.deepEqual([source(report, 'web').bytes_out, source(report, 'books').bytes_out], [4000, 4000]);
  assert.equal(source(report, 'books').share, 0.5);
});

test('every source needs a weight (* for the rest, 0 leaves one out); a weighted source with no documents is an error', async () => {
  const input = () => memoryInput({ web: WEB, books: BOOKS, [NO_SOURCE]: docs('n', 10) });
  await assert.rejects(run(input(), { weights: new Map([['web', 1]]) }), /no weight for source books \(100 docs\), \(none\) \(10 docs\)/);
  const rest = await run(input(), { weights: new Map([['web', 1], ['*', 0]]) });
  assert.deepEqual([rest.out.length, source(rest.report, 'books').docs_out], [1000, 0]);
  await assert.rejects(run(input(), { weights: new Map([['web', 1], ['wiki', 1], ['*', 1]]) }), /source wiki has no documents/);
});

test('a source that changes between passes is an error, not a silently different mix', async () => {
  const input = memoryInput({ web: WEB, books: BOOKS });
  const shrinking: MixInput = {
    scan: () => input.scan(),
    async *reread(name) {
      let n = 0;
      for await (const doc of input.reread(name)) if (name !== 'books' || n++ < 50) yield doc;
    },
  };
  await assert.rejects(run(shrinking, { weights: new Map([['web', 1], ['books', 1]]) }), /source books changed while it was being read/);
});
