import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SplitWriter } from '../../../lib/shards/writer.js';
import type { TokenShardEntry } from '../../../lib/shards/manifest.js';
import { createRandom } from '../../../lib/util/random.js';
import { tempDir } from '../../helpers/cli.js';

/** Writes `docs` (each after an end-of-text token) and returns the shard entries and file bytes. */
function write(dir: string, docs: Uint32Array[], opts: { seqLen: number; windowsPerShard: number; vocabSize: number; oneByOne: boolean }) {
  const entries: TokenShardEntry[] = [];
  const writer = new SplitWriter({ dir, split: 'train', seqLen: opts.seqLen, windowsPerShard: opts.windowsPerShard, vocabSize: opts.vocabSize, vocabHash: 'ab'.repeat(32), eot: 1, done: [], onShard: (e) => entries.push(e) });
  for (const doc of docs) {
    writer.append([1]);
    if (opts.oneByOne) for (const token of doc) writer.append([token]);
    else writer.append(doc);
  }
  writer.finish();
  return { entries, files: readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f)).toString('base64')]) };
}

test('appending a document at once writes the same shards as appending it token by token, across shard and buffer edges', (t) => {
  const random = createRandom(3);
  // Up to 300k tokens a document: past the 256k-token write buffer and the 4096-token hash block.
  const docs = Array.from({ length: 40 }, (_, i) => Uint32Array.from({ length: i === 7 ? 300_000 : random.int(5000) }, () => random.int(60_000)));
  for (const shape of [{ seqLen: 7, windowsPerShard: 5000, vocabSize: 60_000 }, { seqLen: 64, windowsPerShard: 1000, vocabSize: 151_851 }]) {
    const bulk = tempDir(), single = tempDir();
    t.after(bulk.cleanup);
    t.after(single.cleanup);
    const a = write(bulk.dir, docs, { ...shape, oneByOne: false });
    const b = write(single.dir, docs, { ...shape, oneByOne: true });
    assert.ok(a.entries.length > 1);
    assert.deepEqual(a, b);
  }
});
