// The README's set-up, as written, gives a `loom` that runs from any directory; the examples run
// loom without it being on the PATH. (CI runs `npm ci`, which builds dist/, before the tests.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { VERSION } from '../../lib/version.js';
import { ROOT, tempDir } from '../helpers/cli.js';

const BUILT = existsSync(join(ROOT, 'dist', 'bin', 'loom.js'));
const HAS_MAKE = spawnSync('make', ['--version']).status === 0;

/** The commands of the README's first code block under "## Install". */
function installCommands(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Install'));
  const block = /```\n([\s\S]*?)```/.exec(section)![1]!;
  return block.split('\n').map((line) => line.replace(/\s+#.*$/, '').trim()).filter(Boolean);
}

test("the README's install commands put a working loom on the PATH, for any directory", { skip: !BUILT && 'dist/ is not built' }, (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  // npm's global prefix, here a fresh one, so nothing outside the test changes.
  const env: NodeJS.ProcessEnv = { ...process.env, npm_config_prefix: join(dir, 'prefix'), npm_config_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false' };
  env.PATH = [join(dir, 'prefix', 'bin'), env.PATH].join(delimiter);
  const commands = installCommands();
  assert.equal(commands[0], 'npm install');
  assert.ok(commands.length > 1, 'the set-up says how loom is run');
  for (const command of commands.slice(1)) {
    const [program, ...args] = command.split(/\s+/);
    assert.notEqual(program, 'npx', `${command}: outside the checkout, npx loom is an unrelated registry package`);
    // npm install has built everything already: a link needs no rebuild.
    if (program === 'npm') execFileSync('npm', [...args, '--ignore-scripts'], { cwd: ROOT, env, stdio: 'pipe' });
    else {
      const run = spawnSync(program!, args, { cwd: dir, env, encoding: 'utf8' });
      assert.equal(run.status, 0, `${command} in another directory: ${run.error?.message ?? run.stderr}`);
      assert.match(run.stdout, /loom <command>/);
    }
  }
  const version = spawnSync('loom', ['--version'], { cwd: dir, env, encoding: 'utf8' });
  assert.equal(version.stdout.trim(), VERSION);
});

test("the examples' Makefiles run this checkout's loom when it is not on the PATH", { skip: (!BUILT && 'dist/ is not built') || (!HAS_MAKE && 'no make') }, (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  for (const [makefile, variable] of [['examples/quickstart/Makefile', 'LOOM'], ['examples/dedup-slurm/Makefile', 'BIN']] as const) {
    const command = execFileSync('make', ['-s', '-f', join(ROOT, makefile), '--eval', `print-loom: ; @echo $(${variable})`, 'print-loom'], { cwd: dir, encoding: 'utf8' }).trim();
    const run = spawnSync('sh', ['-c', `${command} --version`], { cwd: dir, encoding: 'utf8', env: { ...process.env, PATH: '/usr/bin:/bin:' + join(process.execPath, '..') } });
    assert.equal(run.stdout.trim(), VERSION, `${makefile}: ${variable}=${command}: ${run.stderr}`);
  }
});
