import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../../lib/errors.js';
import { fraction, integer, nonNegativeInteger, nonNegativeNumber, outputDirectory, outputFile, positiveInteger, positiveNumber, shardSize, validator, writableDirectory } from '../../../lib/cli/validate.js';
import { tempDir } from '../../helpers/cli.js';

const usage = (fn: () => unknown, message: RegExp) => assert.throws(fn, (err: Error) => err instanceof UsageError && message.test(err.message));

test('numeric validators pass good values and absent ones unchanged, and name the flag and the value otherwise', () => {
  assert.equal(integer('--seed')(-3), -3);
  assert.equal(positiveInteger('--steps')(undefined as unknown as number), undefined);
  usage(() => integer('--seed')(NaN), /^--seed must be an integer, got something that is not a number$/);
  usage(() => integer('--seed')(1.5), /^--seed must be an integer, got 1\.5$/);
  usage(() => positiveInteger('--steps')(0), /^--steps must be a whole number ≥ 1, got 0$/);
  assert.equal(nonNegativeInteger('--workers')(0), 0);
  usage(() => nonNegativeInteger('--workers')(-1), /--workers must be a whole number ≥ 0, got -1/);
  usage(() => positiveNumber('--lr')(-1), /^--lr must be a number > 0, got -1$/);
  usage(() => positiveNumber('--lr')(Infinity), /got Infinity/);
  assert.equal(nonNegativeNumber('--dropout')(0), 0);
  usage(() => fraction('--val-fraction')(1.5), /^--val-fraction must be a number from 0 to 1, got 1\.5$/);
  usage(() => validator<string>('--device', 'cpu, cuda, cuda:N or auto', (v) => /^(auto|cpu|cuda(:\d+)?)$/.test(v))('tpu'), /^--device must be cpu, cuda, cuda:N or auto, got "tpu"$/);
  assert.equal(shardSize('256MB'), '256MB');
  usage(() => shardSize('lots'), /--shard-size/);
});

test('path validators: --out not a file nor under one, --rejects not a directory, --tmp-dir an existing directory', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const file = join(dir, 'manifest.json');
  writeFileSync(file, '{}');
  mkdirSync(join(dir, 'sub'));
  assert.equal(outputDirectory('--out')(join(dir, 'sub')), join(dir, 'sub'));
  assert.equal(outputDirectory('--out')(join(dir, 'new', 'deeper')), join(dir, 'new', 'deeper'));
  usage(() => outputDirectory('--out')(file), /^--out .*manifest\.json: exists and is not a directory$/);
  usage(() => outputDirectory('--out')(join(file, 'ckpt')), /^--out .*ckpt: .*manifest\.json is a file, not a directory$/);
  assert.equal(outputFile('--rejects')(file), file);
  assert.equal(outputFile('--rejects')(join(dir, 'new', 'r.jsonl')), join(dir, 'new', 'r.jsonl'));
  usage(() => outputFile('--rejects')(join(dir, 'sub')), /^--rejects .*sub: is a directory; give a file path$/);
  assert.equal(writableDirectory('--tmp-dir')(dir), dir);
  usage(() => writableDirectory('--tmp-dir')(join(dir, 'nonexistent')), /^--tmp-dir .*nonexistent: no such directory$/);
  usage(() => writableDirectory('--tmp-dir')(file), /^--tmp-dir .*: not a directory$/);
});
