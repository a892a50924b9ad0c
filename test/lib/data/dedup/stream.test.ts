import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { dedup } from '../../../../lib/data/dedup/stream.js';
import { RejectSink } from '../../../../lib/io/rejects.js';
import type { Doc } from '../../../../lib/io/types.js';
import { tempDir, parseJsonl } from '../../../helpers/cli.js';
import { collect, corpus, edit, randomText, stream } from './fixtures.js';

const ids = (docs: Doc[]) => docs.map((d) => d.id);

test('exact duplicates after normalization are dropped, the first occurrence kept, with reason and cluster in the rejects', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const rejects = new RejectSink(join(dir, 'rejects.jsonl'));
  const docs = [
    { id: 'a', text: 'Hello,   World! This is a test.' },
    { id: 'b', text: 'hello world this is a test' },
    { id: 'c', text: 'Something else entirely.' },
    { id: 'd', text: 'ＨＥＬＬＯ world — this is a test…' },
  ];
  const run = dedup(stream(docs), { fuzzy: false, rejects });
  assert.deepEqual(ids(await collect(run)), ['a', 'c']);
  rejects.close();
  const entries = parseJsonl(readFileSync(join(dir, 'rejects.jsonl'), 'utf8'));
  assert.deepEqual(entries.map((e) => [e.reason, e.stage, (e.record as Doc).id, (e.record as Doc).dedup]), [
    ['exact-duplicate', 'dedup', 'b', { cluster: '<input>:1', size: 3, kept: false }],
    ['exact-duplicate', 'dedup', 'd', { cluster: '<input>:1', size: 3, kept: false }],
  ]);
  assert.equal(run.counters.dropReasons['exact-duplicate'], 2);
});

test('near-duplicates are clustered and tagged; unrelated documents are not', async () => {
  const base = randomText(1, 300);
  const docs = [
    { id: 'orig', text: base },
    { id: 'other', text: randomText(2, 300) },
    { id: 'edited', text: edit(base, 3, 9) },
    { id: 'truncated', text: base.split(' ').slice(0, 280).join(' ') },
    { id: 'wrapped', text: `Home | About | Contact\n${base}\nCopyright 2024 all rights reserved` },
    { id: 'unrelated', text: randomText(3, 300) },
  ];
  const out = await collect(dedup(stream(docs), { mode: 'tag' }));
  const tags = Object.fromEntries(out.map((d) => [d.id, d.dedup]));
  for (const id of ['edited', 'truncated', 'wrapped']) assert.deepEqual(tags[id], { cluster: '<input>:1', size: 4, kept: false });
  assert.deepEqual(tags.orig, { cluster: '<input>:1', size: 4, kept: true });
  assert.deepEqual(tags.other, { cluster: '<input>:2', size: 1, kept: true });
  assert.deepEqual(tags.unrelated, { cluster: '<input>:6', size: 1, kept: true });
  assert.deepEqual(ids(await collect(dedup(stream(docs)))), ['orig', 'other', 'unrelated']);
});

test('Chinese near-duplicates are found with character n-grams, from lang or from the script', async () => {
  const greatWall =
    '长城是中国古代的军事防御工程，是一道高大、坚固而且连绵不断的长垣，用以限隔敌骑的行动。长城不是一道单纯孤立的城墙，而是以城墙为主体，同大量的城、障、亭、标相结合的防御体系。长城修筑的历史可上溯到西周时期，发生在首都镐京的著名典故烽火戏诸侯就源于此。';
  const docs = [
    { id: 'zh-1', text: greatWall },
    { id: 'zh-2', text: '西湖位于浙江省杭州市西湖区龙井路一号，杭州市区西部，景区总面积四十九平方千米，汇水面积为二十一平方千米，湖面面积为六点三八平方千米。西湖南、西、北三面环山，湖中白堤、苏堤、杨公堤、赵公堤将湖面分割成若干水面。' },
    // Re-extracted copy: a few characters changed, different punctuation and spacing, no lang.
    { id: 'zh-1-edited', text: greatWall.replace('而且', '并且').replace('可上溯到', '可以追溯到').replace(/，/g, ', ') },
    { id: 'zh-1-lang', lang: 'zh', text: greatWall.replace('著名典故', '著名的典故') + '（资料来源：百科）' },
    { id: 'zh-3', text: '长江是亚洲第一长河和世界第三长河，也是世界上完全在一国境内的最长河流，全长六千三百余千米。长江干流自西而东横贯中国中部，流经青海、西藏、四川、云南、重庆、湖北、湖南、江西、安徽、江苏、上海。' },
  ];
  const out = await collect(dedup(stream(docs), { mode: 'tag' }));
  const tags = Object.fromEntries(out.map((d) => [d.id, d.dedup]));
  assert.deepEqual(tags['zh-1-edited'], { cluster: '<input>:1', size: 3, kept: false });
  assert.deepEqual(tags['zh-1-lang'], { cluster: '<input>:1', size: 3, kept: false });
  assert.equal(tags['zh-2']!.size, 1);
  assert.equal(tags['zh-3']!.size, 1);
  // Word n-grams would miss them: Chinese has no spaces, so each clause is one "word".
  const asEnglish = await collect(dedup(stream(docs.map((d) => ({ ...d, lang: 'en' }))), { mode: 'tag', exact: false }));
  assert.equal(asEnglish.find((d) => d.id === 'zh-1-edited')!.dedup!.size, 1);
});

test('a later document that joins two clusters merges them: one kept per final cluster', async () => {
  const x = randomText(11, 200);
  const y = randomText(12, 200);
  const docs = [
    { id: 'A', url: 'https://example.com/a', text: x },
    { id: 'C', url: 'https://example.com/c', text: y },
    { id: 'B', url: 'https://example.com/a', text: edit(y, 2, 5) },
  ];
  const out = await collect(dedup(stream(docs), { url: true, mode: 'tag' }));
  assert.deepEqual(
    out.map((d) => [d.id, d.dedup!.kept, d.dedup!.size]),
    [['A', true, 3], ['C', false, 3], ['B', false, 3]],
  );
});

test('--keep longest and score:NAME pick the cluster member, ties to the earliest; exact copies are never kept', async () => {
  const base = randomText(21, 200);
  const docs = [
    { id: 'short', text: base.split(' ').slice(0, 190).join(' '), scores: { q: 0.2 } },
    { id: 'long', text: base + ' plus six more words at end', scores: { q: 0.5 } },
    { id: 'best', text: edit(base, 1, 3), scores: { q: 0.9 } },
    { id: 'tie', text: edit(base, 1, 4), scores: { q: 0.9 } },
    { id: 'longer', text: base + ' plus six more words at end and a much longer trailing text', scores: { q: 0.1 } },
  ];
  const kept = async (keep: string) => ids(await collect(dedup(stream(docs), { keep: keep as 'first' })));
  assert.deepEqual(await kept('first'), ['short']);
  assert.deepEqual(await kept('score:q'), ['best']);
  assert.deepEqual(await kept('longest'), ['longer']);
  // An exact copy (after normalization) of 'long' with a better score and more characters loses.
  const exactCopy = [...docs.slice(0, 4), { id: 'long-exact', text: `  ${(base + ' plus six more words at end').toUpperCase()}!!  `, scores: { q: 1 } }];
  assert.deepEqual(ids(await collect(dedup(stream(exactCopy), { keep: 'score:q' }))), ['best']);
  assert.deepEqual(ids(await collect(dedup(stream(exactCopy), { keep: 'longest' }))), ['long']);
});

test('output is identical for 0, 1 and 2 workers', async () => {
  const docs = corpus(1500, 4);
  const runs = [];
  for (const workers of [0, 1, 2]) runs.push(JSON.stringify(await collect(dedup(stream(docs), { mode: 'tag', workers, keep: 'score:q' }))));
  assert.equal(runs[1], runs[0]);
  assert.equal(runs[2], runs[0]);
  const kept = JSON.parse(runs[0]!).filter((d: Doc) => d.dedup!.kept).length;
  assert.ok(kept > 800 && kept < 1100, `kept ${kept} of 1500`);
});

test('--verify drops LSH candidates whose exact Jaccard is below the bar', async () => {
  // 20 bands of 1 row: pairs at Jaccard ~0.33 collide almost surely; verification rejects them.
  const base = randomText(31, 300).split(' ');
  const docs = [
    { id: 'a', text: base.slice(0, 200).join(' ') },
    { id: 'b', text: base.slice(100, 300).join(' ') },
    { id: 'c', text: edit(base.slice(0, 200).join(' '), 2, 1) },
  ];
  const loose = dedup(stream(docs), { bands: 20, rows: 1, mode: 'tag' });
  assert.deepEqual((await collect(loose)).map((d) => d.dedup!.size), [3, 3, 3]);
  const verified = dedup(stream(docs), { bands: 20, rows: 1, mode: 'tag', verify: true, jaccard: 0.7 });
  assert.deepEqual((await collect(verified)).map((d) => [d.id, d.dedup!.size]), [['a', 2], ['b', 1], ['c', 2]]);
  assert.equal(verified.counters.extra.pairs_checked, 2);
  assert.equal(verified.counters.extra.pairs_confirmed, 1);
});

test('a document without text is dropped as "no text"; empty texts pass untouched; the spill is removed, also after an early stop', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const docs = [{ id: 'x', meta: 1 }, { id: 'y', text: '' }, { id: 'z', text: '   ' }];
  const run = dedup(stream(docs), { tmpDir: dir });
  assert.deepEqual(await collect(run), docs.slice(1));
  assert.deepEqual(run.counters.dropReasons, { 'no text': 1 });
  assert.deepEqual(readdirSync(dir), []);
  for await (const doc of dedup(stream(docs), { tmpDir: dir })) {
    assert.equal(readdirSync(dir).length, 1);
    if (doc.id === 'y') break;
  }
  assert.deepEqual(readdirSync(dir), []);
});
