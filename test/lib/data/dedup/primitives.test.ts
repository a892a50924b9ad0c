import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MinHasher } from '../../../../lib/data/dedup/minhash.js';
import { normalizeForExact } from '../../../../lib/data/dedup/normalize.js';
import { HashTable64 } from '../../../../lib/data/dedup/table.js';
import { UnionFind } from '../../../../lib/data/dedup/union-find.js';
import { detectionProbability, lshThreshold, validateParams, DEDUP_DEFAULTS } from '../../../../lib/data/dedup/options.js';
import { jaccard } from '../../../../lib/data/dedup/verify.js';
import { fmix32 } from '../../../../lib/text/ngrams.js';

test('normalization steps each erase what they name, and only that', () => {
  const text = 'Ｃafé  2024,\tNaïve!';
  assert.equal(normalizeForExact(text, []), text);
  assert.equal(normalizeForExact(text, ['nfkc']), 'Café  2024,\tNaïve!');
  assert.equal(normalizeForExact(text, ['nfkc', 'lowercase', 'diacritics', 'punctuation', 'digits', 'whitespace']), 'cafe 0 naive');
  assert.equal(normalizeForExact('a\u00a0 b\n\nc ', ['whitespace']), 'a b c');
  assert.equal(normalizeForExact('北京，首都。', ['punctuation', 'whitespace']), '北京 首都');
});

/** A set of `size` distinct avalanched hashes; `from` shifts the range so overlaps are exact. */
const set = (from: number, size: number) => Uint32Array.from({ length: size }, (_, i) => fmix32(from + i));

test('the fraction of equal MinHash values estimates Jaccard similarity', () => {
  const hasher = new MinHasher(1, 2000, 3);
  for (const [shift, expected] of [[0, 1], [100, 700 / 900], [400, 400 / 1200], [800, 0]] as const) {
    const a = Array.from(hasher.sign(set(0, 800), 800));
    const b = Array.from(hasher.sign(set(shift, 800), 800));
    const estimate = a.filter((v, i) => v === b[i]).length / a.length;
    assert.ok(Math.abs(estimate - expected) < 0.04, `J=${expected.toFixed(3)} estimated ${estimate}`);
  }
});

test('signatures and band hashes are deterministic per seed and change with it', () => {
  const shingles = set(5, 300);
  const bands = (seed: number) => {
    const h = new MinHasher(14, 8, seed);
    const out = new Uint32Array(28);
    h.bandHashes(h.sign(shingles, shingles.length), out, 0);
    return Array.from(out);
  };
  assert.deepEqual(bands(1), bands(1));
  assert.notDeepEqual(bands(1), bands(2));
  assert.equal(new Set(bands(1)).size, 28);
});

test('the LSH S-curve: FineWeb setting has its threshold near 0.72', () => {
  assert.ok(Math.abs(lshThreshold(14, 8) - 0.719) < 0.001);
  assert.ok(detectionProbability(0.9, 14, 8) > 0.99);
  assert.ok(detectionProbability(0.5, 14, 8) < 0.06);
  assert.throws(() => validateParams({ ...DEDUP_DEFAULTS, keep: 'best' as never }), /--keep/);
  assert.throws(() => validateParams({ ...DEDUP_DEFAULTS, bands: 0 }), /--bands/);
  assert.throws(() => validateParams({ ...DEDUP_DEFAULTS, normalize: ['stem' as never] }), /unknown --normalize step "stem"/);
});

test('the hash table keeps the first value per key through growth', () => {
  const table = new HashTable64(16);
  for (let i = 0; i < 100_000; i++) assert.equal(table.getOrInsert(fmix32(i), i, i), -1);
  for (let i = 0; i < 100_000; i += 997) assert.equal(table.getOrInsert(fmix32(i), i, 5), i);
  assert.equal(table.get(1, 2), -1);
  table.set(fmix32(7), 7, 42);
  assert.equal(table.get(fmix32(7), 7), 42);
  assert.equal(table.size, 100_000);
  assert.ok(table.bytes < 100_000 * 12 * 3);
});

test('union-find roots are the smallest member, whatever the union order', () => {
  const uf = new UnionFind();
  for (let i = 0; i < 3000; i++) uf.add();
  uf.union(2999, 1500);
  uf.union(1500, 7);
  uf.union(8, 2999);
  uf.union(2000, 2001);
  for (const i of [7, 8, 1500, 2999]) assert.equal(uf.find(i), 7);
  assert.equal(uf.find(2001), 2000);
  assert.equal(uf.find(5), 5);
});

test('exact Jaccard of sorted sets', () => {
  assert.equal(jaccard(Uint32Array.of(1, 2, 3, 4), Uint32Array.of(3, 4, 5, 6)), 2 / 6);
  assert.equal(jaccard(Uint32Array.of(), Uint32Array.of()), 1);
  assert.equal(jaccard(Uint32Array.of(1), Uint32Array.of(2)), 0);
});
