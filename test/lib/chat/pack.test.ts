import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Packer, packExamples, type PackedRow } from '../../../lib/chat/pack.js';
import type { SftExample } from '../../../lib/chat/sft-examples.js';
import { createRandom } from '../../../lib/util/random.js';

const PAD = 999;

/** An example of `length` tokens whose ids say where they come from (100·n + t) and a seeded loss mask. */
function example(n: number, length: number, seed = n): SftExample {
  const random = createRandom(seed);
  const lossMask = Uint8Array.from({ length }, (_, t) => (t > 0 && random.next() < 0.6 ? 1 : 0));
  return { ids: Int32Array.from({ length }, (_, t) => 100 * n + t), lossMask };
}

function randomExamples(count: number, seed: number, maxLength: number): SftExample[] {
  const random = createRandom(seed);
  return Array.from({ length: count }, (_, n) => example(n, 1 + random.int(maxLength), seed * 1000 + n));
}

const lossTokens = (examples: SftExample[]) => examples.reduce((sum, e) => sum + e.lossMask.reduce((s, m) => s + m, 0), 0);
const lossTargets = (rows: PackedRow[]) => rows.reduce((sum, r) => sum + r.targets.filter((t) => t >= 0).length, 0);

/** Every row's conversations cut back out: their ids, and which of their tokens are targets. */
function unpack(rows: PackedRow[]): { ids: number[]; learned: number[] }[] {
  const out: { ids: number[]; learned: number[] }[] = [];
  for (const row of rows) {
    let offset = 0;
    for (const length of row.segments) {
      const ids = [...row.ids.subarray(offset, offset + length)];
      if (ids[0] !== PAD) {
        const targets = row.targets.subarray(offset, offset + length);
        out.push({ ids, learned: ids.map((_, t) => (t > 0 && targets[t - 1]! >= 0 ? 1 : 0)) });
      }
      offset += length;
    }
  }
  return out;
}

test('first-fit packs in input order into rows of exactly seqLen, padding last as its own segment', () => {
  const rows = packExamples([example(1, 6), example(2, 5), example(3, 3), example(4, 2), example(5, 4)], 8, { pack: true, padId: PAD });
  assert.deepEqual(rows.map((r) => r.segments), [[6, 2], [5, 3], [4, 4]]);
  assert.deepEqual([...rows[0]!.ids], [100, 101, 102, 103, 104, 105, 400, 401]);
  assert.deepEqual([...rows[2]!.ids], [500, 501, 502, 503, PAD, PAD, PAD, PAD]);
  assert.deepEqual([...rows[2]!.positions], [0, 1, 2, 3, 0, 1, 2, 3]);
  assert.deepEqual([...rows[2]!.targets.subarray(3)], [-1, -1, -1, -1, -1]);
  for (const row of rows) {
    assert.equal(row.ids.length, 8);
    assert.equal(row.segments.reduce((a, b) => a + b, 0), 8);
  }
});

test('packed rows hold every example unchanged, with exactly its loss-bearing targets', () => {
  const examples = randomExamples(300, 7, 120);
  const rows = packExamples(examples, 128, { pack: true, padId: PAD });
  assert.equal(lossTargets(rows), lossTokens(examples));
  const back = unpack(rows).sort((a, b) => a.ids[0]! - b.ids[0]!);
  assert.deepEqual(back.map((c) => c.ids), examples.map((e) => [...e.ids]));
  assert.deepEqual(back.map((c) => c.learned), examples.map((e) => [...e.lossMask]));
  assert.ok(rows.length < examples.length / 1.5, `${rows.length} rows for ${examples.length} examples`);
});

test('no target crosses a conversation boundary, and positions restart at each segment', () => {
  const rows = packExamples(randomExamples(200, 3, 60), 64, { pack: true, padId: PAD });
  for (const row of rows) {
    let offset = 0;
    for (const length of row.segments) {
      for (let t = offset; t < offset + length; t++) {
        assert.equal(row.positions[t], t - offset);
        if (t === offset + length - 1) assert.equal(row.targets[t], -1, 'the last token of a conversation predicts nothing');
        else if (row.targets[t]! >= 0) assert.equal(row.targets[t], row.ids[t + 1]);
      }
      offset += length;
    }
  }
});

test('packing is deterministic', () => {
  const pack = () => packExamples(randomExamples(150, 11, 50), 64, { pack: true, padId: PAD });
  assert.deepEqual(pack(), pack());
});

test('--no-pack: one conversation per row, padded to seqLen', () => {
  const examples = randomExamples(20, 5, 32);
  const rows = packExamples(examples, 32, { pack: false, padId: PAD });
  assert.equal(rows.length, 20);
  rows.forEach((row, i) => {
    const length = examples[i]!.ids.length;
    assert.deepEqual(row.segments, length === 32 ? [32] : [length, 32 - length]);
    assert.ok(row.ids.subarray(length).every((id) => id === PAD));
  });
  assert.equal(lossTargets(rows), lossTokens(examples));
});

test('Packer streams: a bounded window packs less tightly but loses nothing; an unbounded one equals packExamples', () => {
  const examples = randomExamples(400, 13, 100);
  const stream = (window: number) => {
    const packer = new Packer(128, { pack: true, padId: PAD, window });
    const rows = examples.flatMap((e) => packer.add(e));
    const open = packer.flush();
    assert.ok(open.length <= window, `${open.length} rows held with a window of ${window}`);
    return [...rows, ...open];
  };
  const whole = packExamples(examples, 128, { pack: true, padId: PAD });
  assert.deepEqual(stream(Infinity), whole);
  for (const window of [1, 4, 64]) {
    const rows = stream(window);
    assert.equal(lossTargets(rows), lossTokens(examples));
    assert.equal(unpack(rows).length, examples.length);
    assert.ok(rows.length >= whole.length);
  }
  // Window 1 is next-fit: a row is finished as soon as an example does not fit in it.
  const nextFit = new Packer(8, { pack: true, padId: PAD, window: 1 });
  assert.deepEqual(nextFit.add(example(1, 6)), []);
  assert.deepEqual(nextFit.add(example(2, 5)).map((r) => r.segments), [[6, 2]]);
  assert.deepEqual(nextFit.add(example(3, 3)).map((r) => r.segments), [[5, 3]]);
  assert.deepEqual(nextFit.flush(), []);
});

test('an example longer than the row is an error, not a silent cut', () => {
  assert.throws(() => packExamples([example(1, 9)], 8, { pack: true, padId: PAD }), /9 tokens does not fit rows of 8/);
  assert.throws(() => new Packer(0, { pack: true, padId: PAD }), RangeError);
});
