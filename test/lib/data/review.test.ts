import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readDocs } from '../../../lib/io/read.js';
import type { Doc } from '../../../lib/io/types.js';
import { LabelStore, reviewKey, reviewQueue, ReviewSession } from '../../../lib/data/review.js';
import { parseJsonl, tempDir } from '../../helpers/cli.js';

async function* from(docs: Doc[]): AsyncGenerator<Doc> {
  for (const doc of docs) yield { ...doc };
}

const DOCS: Doc[] = Array.from({ length: 500 }, (_, i) => ({ id: `d${i}`, text: `document ${i}`, scores: { quality: i / 500 } }));

test('a document is known by its id, or by its text where it has none', () => {
  assert.equal(reviewKey({ id: 'a1', text: 'x' }), 'id:a1');
  assert.equal(reviewKey({ id: 7, text: 'x' } as unknown as Doc), 'id:7', 'JSON ids may be numbers');
  assert.equal(reviewKey({ text: '人人生而自由' }), reviewKey({ text: '人人生而自由', label: 'good' }));
  assert.notEqual(reviewKey({ text: 'a' }), reviewKey({ text: 'b' }));
});

test('labels are appended with the whole record, exactly as read; undo cuts the last one off', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const input = join(dir, 'docs.jsonl');
  writeFileSync(input, '{"id":"a","text":"Kept as read.","big":12345678901234567891,"scores":{"quality":0.5}}\n{"id":"b","text":"Second."}\n');
  const read: Doc[] = [];
  for await (const doc of readDocs([input])) read.push(doc);
  const [a, b] = read;
  const path = join(dir, 'labels.jsonl');
  const store = LabelStore.open(path);
  store.append(a!, 'good');
  const second = store.append(b!, 'offensive');
  assert.equal(readFileSync(path, 'utf8'), '{"id":"a","text":"Kept as read.","big":12345678901234567891,"scores":{"quality":0.5},"label":"good"}\n{"id":"b","text":"Second.","label":"offensive"}\n');
  assert.equal(a!.label, undefined, 'the document itself is unchanged');
  store.undo(second);
  assert.equal(store.has(b!), false);
  store.append(b!, 'bad');
  store.close();
  assert.deepEqual(parseJsonl(readFileSync(path, 'utf8')).map((r) => [r.id, r.label]), [['a', 'good'], ['b', 'bad']]);

  const reopened = LabelStore.open(path, 'label');
  assert.equal(reopened.size, 2);
  assert.ok(reopened.has({ id: 'a' }) && reopened.has({ id: 'b' }));
  reopened.close();
});

test('a torn last line (a crash mid-write) is cut off on open; the labels before it stay', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const path = join(dir, 'labels.jsonl');
  writeFileSync(path, '{"id":"a","text":"x","label":"good"}\n{"id":"b","te');
  const store = LabelStore.open(path);
  store.append({ id: 'c', text: 'y' }, 'bad');
  store.close();
  assert.deepEqual(parseJsonl(readFileSync(path, 'utf8')).map((r) => r.id), ['a', 'c']);
  appendFileSync(path, 'not json\n{"id":"d"}\n');
  assert.throws(() => LabelStore.open(path), /labels\.jsonl:3: not a label record/);
});

test('the queue is a seeded random sample, shuffled, without documents labelled already; only documents with text', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const store = LabelStore.open(join(dir, 'labels.jsonl'));
  const docs = [...DOCS, { id: 'no-text', scores: { quality: 1 } }];
  const first = await reviewQueue(from(docs), { n: 20, seed: 4, store });
  const same = await reviewQueue(from(docs), { n: 20, seed: 4, store });
  const other = await reviewQueue(from(docs), { n: 20, seed: 5, store });
  const ids = (q: { queue: Doc[] }) => q.queue.map((d) => d.id);
  assert.equal(first.queue.length, 20);
  assert.deepEqual(ids(first), ids(same));
  assert.notDeepEqual(ids(first), ids(other));
  const order = ids(first).map((id) => Number(String(id).slice(1)));
  assert.notDeepEqual(order, [...order].sort((x, y) => x - y), 'shuffled, not in input order');
  assert.ok(!ids(first).includes('no-text'));

  for (const doc of first.queue.slice(0, 5)) store.append(doc, 'good');
  const resumed = await reviewQueue(from(docs), { n: 20, seed: 4, store });
  assert.deepEqual(ids(resumed), ids(first).slice(5), 'a rerun carries on where the labels stop');
  assert.equal(resumed.sampled, 20);
  store.close();
});

test('a session labels, skips and undoes, and counts what it did', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const path = join(dir, 'labels.jsonl');
  const store = LabelStore.open(path);
  const session = new ReviewSession(DOCS.slice(0, 4), store);
  session.mark('good');
  session.skip();
  session.mark('bad');
  assert.deepEqual([session.index, session.counts], [3, { good: 1, bad: 1, offensive: 0, skip: 1 }]);
  assert.equal(session.undo(), true);
  assert.equal(session.undo(), true);
  assert.deepEqual([session.index, session.current?.id, session.counts], [1, 'd1', { good: 1, bad: 0, offensive: 0, skip: 0 }]);
  session.mark('offensive');
  session.mark('good');
  session.mark('bad');
  assert.equal(session.done, true);
  session.mark('good');
  assert.equal(session.index, 4, 'nothing left to label');
  store.close();
  assert.deepEqual(parseJsonl(readFileSync(path, 'utf8')).map((r) => [r.id, r.label]), [['d0', 'good'], ['d1', 'offensive'], ['d2', 'good'], ['d3', 'bad']]);
  const empty = new ReviewSession([], LabelStore.open(join(dir, 'other.jsonl')));
  assert.equal(empty.undo(), false);
  empty.store.close();
});
