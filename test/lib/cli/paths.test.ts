import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { outputsOf, refuseOutputsOverInputs } from '../../../lib/cli/paths.js';
import { UsageError } from '../../../lib/errors.js';
import { tempDir } from '../../helpers/cli.js';

function setUp(t: { after(fn: () => void): void }) {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const input = join(dir, 'in.jsonl');
  writeFileSync(input, '{}\n');
  mkdirSync(join(dir, 'shards'));
  writeFileSync(join(dir, 'shards', 'shard-00000.jsonl'), '{}\n');
  return { dir, input };
}

const refused = (inputs: string[], flag: string, path: string, message: RegExp) =>
  assert.throws(() => refuseOutputsOverInputs(inputs, [{ flag, path }]), (err: Error) => err instanceof UsageError && message.test(err.message));

test('an output that is an input is refused, by name, through a symlink, a dangling symlink or a hard link', (t) => {
  const { dir, input } = setUp(t);
  refused([input], '--rejects', input, /^--rejects .*in\.jsonl is also an input: writing it would destroy it/);
  symlinkSync(input, join(dir, 'link.jsonl'));
  refused([input], '--rejects', join(dir, 'link.jsonl'), /link\.jsonl is the input .*in\.jsonl/);
  refused([join(dir, 'link.jsonl')], '--report', input, /--report .*in\.jsonl is the input .*link\.jsonl/);
  linkSync(input, join(dir, 'hard.jsonl'));
  refused([input], '--rejects', join(dir, 'hard.jsonl'), /hard\.jsonl is the input/);
  // Opening a dangling link for writing creates its target: compare the target.
  symlinkSync(join(dir, 'shards', 'later.jsonl'), join(dir, 'dangling.jsonl'));
  refused([join(dir, 'shards')], '--rejects', join(dir, 'dangling.jsonl'), /lies inside the input directory/);
});

test('an output inside an input directory, or an --out directory holding an input, is refused', (t) => {
  const { dir } = setUp(t);
  const shards = join(dir, 'shards');
  refused([shards], '--out', shards, /is also an input/);
  refused([shards], '--out', join(shards, 'new', 'deeper'), /^--out .*deeper lies inside the input directory .*shards: choose a path outside the inputs$/);
  refused([shards], '--rejects', join(shards, 'rejects.jsonl'), /lies inside the input directory/);
  refused([join(shards, 'shard-00000.jsonl')], '--out', dir, /^--out .* holds the input .*shard-00000\.jsonl/);
  refused([join(dir, 'shards', '*.jsonl')], '--out', shards, /holds the input/);
});

test('outputs beside the inputs pass; missing inputs are left to the reader; two outputs may not share a path', (t) => {
  const { dir, input } = setUp(t);
  const shards = join(dir, 'shards');
  refuseOutputsOverInputs([input, shards, join(dir, 'missing.jsonl'), '-'], [
    { flag: '--out', path: join(dir, 'out') },
    { flag: '--rejects', path: join(dir, 'out', 'rejects.jsonl') },
    { flag: '--report', path: undefined },
  ]);
  refuseOutputsOverInputs([join(dir, 'shards-other')], [{ flag: '--out', path: join(dir, 'shards-other2') }]);
  assert.throws(
    () => refuseOutputsOverInputs([input], [{ flag: '--rejects', path: join(dir, 'x.jsonl') }, { flag: '--report', path: join(dir, '.', 'x.jsonl') }]),
    /--rejects .*x\.jsonl and --report .*x\.jsonl are the same file/,
  );
});

test('outputsOf picks the output flags that are set', () => {
  assert.deepEqual(outputsOf({ out: 'o', rejects: undefined, report: 'r.jsonl', inputs: ['a'], metrics: 'm.jsonl', seed: 1 }), [
    { flag: '--out', path: 'o' },
    { flag: '--report', path: 'r.jsonl' },
    { flag: '--metrics', path: 'm.jsonl' },
  ]);
});
