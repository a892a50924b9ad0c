import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readConfigFile } from '../../../lib/cli/config.js';
import { UsageError } from '../../../lib/errors.js';
import { tempDir } from '../../helpers/cli.js';

test('readConfigFile tells a missing file from one that is not JSON, or not an object of flags', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const usage = (path: string, message: RegExp) => assert.throws(() => readConfigFile(path), (err: Error) => err instanceof UsageError && message.test(err.message));
  writeFileSync(join(dir, 'ok.json'), '{"seed": 3}');
  assert.deepEqual(readConfigFile(join(dir, 'ok.json')), { seed: 3 });
  usage(join(dir, 'missing.json'), /^--config .*missing\.json: no such file$/);
  usage(dir, /: is a directory, not a JSON file$/);
  writeFileSync(join(dir, 'bad.json'), '{"seed": 3,}');
  usage(join(dir, 'bad.json'), /^--config .*bad\.json: not valid JSON \(/);
  writeFileSync(join(dir, 'list.json'), '[1]');
  usage(join(dir, 'list.json'), /must hold one JSON object of flag values/);
});
