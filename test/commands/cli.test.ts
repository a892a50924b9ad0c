import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, openSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOOM_BIN, runLoom, tempDir } from '../helpers/cli.js';

test('--help lists the implemented commands with examples; --version prints the version', async () => {
  const help = await runLoom(['--help']);
  assert.equal(help.code, 0);
  for (const command of ['inspect', 'sample', 'run', 'cat']) assert.match(help.stdout, new RegExp(`loom ${command}`));
  const sampleHelp = await runLoom(['sample', '--help']);
  assert.match(sampleHelp.stdout, /Examples:/);
  const version = await runLoom(['--version']);
  assert.equal(version.stdout.trim(), JSON.parse(readFileSync('package.json', 'utf8')).version);
});

test('usage errors exit 2 with a message on stderr and nothing on stdout', async () => {
  for (const args of [['frobnicate'], ['cat', '--no-such-flag'], ['cat', '--on-error', 'explode'], ['sample'], [], ['cat', '--shard-size', 'lots', '--out', '/tmp/x']]) {
    const result = await runLoom(args, { input: '{}\n' });
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /\S/);
  }
});

test('an unknown command is named as one, with a suggestion when one is close', async () => {
  const typo = await runLoom(['extrct']);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /unknown command "extrct"\. Did you mean extract\?/);
  assert.match((await runLoom(['frobnicate'])).stderr, /unknown command "frobnicate"/);
});

test('data errors exit 1 with file:line', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  writeFileSync(join(dir, 'in.jsonl'), '{"a":1}\n{"a":\n');
  const result = await runLoom(['cat', join(dir, 'in.jsonl')]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, new RegExp(`${join(dir, 'in.jsonl')}:2: invalid JSON`));
  assert.equal(result.stdout, '{"a":1}\n', 'records before the bad line are still delivered');
  const missing = await runLoom(['cat', join(dir, 'nope.jsonl')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope.jsonl: no such file/);
});

test('config precedence: flags > LOOM_* environment > --config file > defaults', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ seed: 3, n: 2, 'shard-size': '7' }));
  const input = Array.from({ length: 20 }, (_, i) => JSON.stringify({ i })).join('\n');
  const resolved = async (name: string, args: string[], env: Record<string, string> = {}) => {
    const out = join(dir, name);
    const result = await runLoom(['sample', '--quiet', '--out', out, ...args], { input, env });
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).config;
  };
  assert.equal((await resolved('defaults', ['-n', '1'])).seed, 0);
  const fromFile = await resolved('file', ['--config', config]);
  assert.deepEqual([fromFile.seed, fromFile.count, fromFile['shard-size']], [3, 2, '7']);
  assert.equal((await resolved('env', ['--config', config], { LOOM_SEED: '4' })).seed, 4);
  assert.equal((await resolved('flag', ['--config', config, '--seed', '5'], { LOOM_SEED: '4' })).seed, 5);
});

test('LOOM_* variables that name no option of the command are ignored, not usage errors', async () => {
  const result = await runLoom(['inspect', '--json', '--quiet'], { input: '{"a":1}\n', env: { LOOM_HOME: '/x', LOOM_SHARD_SIZE: '5', LOOM: 'bin/loom', LOOMBIN: 'x' } });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout).records, 1);
});

test('--progress json writes JSON progress lines to stderr, ending with a final one', async () => {
  const input = Array.from({ length: 500 }, (_, i) => JSON.stringify({ i })).join('\n');
  const result = await runLoom(['cat', '--progress', 'json'], { input });
  assert.equal(result.code, 0);
  const lines = result.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  const last = lines.at(-1);
  assert.equal(last.done, true);
  assert.equal(last.records, 500);
  assert.equal(last.out, 500);
  assert.ok('mb_per_s' in last && 'records_per_s' in last && 'elapsed_s' in last);
});

test('the run summary on stderr counts records in, out and rejected; --quiet silences it', async () => {
  const input = '{"a":1}\nbad\n{"a":2}\n';
  const result = await runLoom(['cat', '--on-error', 'skip'], { input });
  assert.equal(result.code, 0);
  assert.match(result.stderr, /<stdin>:2: invalid JSON/);
  assert.match(result.stderr, /loom cat: 2 in · 2 out · 1 rejected lines/);
  const quiet = await runLoom(['cat', '--on-error', 'skip', '--quiet'], { input });
  assert.doesNotMatch(quiet.stderr, /loom cat:/);
});

test('an output path that is also an input is refused with exit 2 before anything is written; the input is untouched', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const input = join(dir, 'in.jsonl');
  const text = '{"id":1,"text":"a b c d e"}\nbad\n{"id":2,"text":"a b c d e"}\n';
  writeFileSync(input, text);
  symlinkSync(input, join(dir, 'link.jsonl'));
  mkdirSync(join(dir, 'shards'));
  writeFileSync(join(dir, 'shards', 'part.jsonl'), '{"id":3,"text":"x"}\n');
  const cases: [string[], RegExp][] = [
    [['cat', input, '--on-error', 'skip', '--rejects', input], /--rejects .*in\.jsonl is also an input: writing it would destroy it/],
    [['dedup', input, '--on-error', 'skip', '--report', input], /--report .*in\.jsonl is also an input/],
    [['dedup', 'signatures', input, '--work', join(dir, 'work'), '--on-error', 'skip', '--rejects', input], /--rejects .*in\.jsonl is also an input/],
    [['langid', join(dir, 'link.jsonl'), '--on-error', 'skip', '--rejects', input], /--rejects .*in\.jsonl is the input .*link\.jsonl/],
    [['cat', join(dir, 'shards'), '--out', join(dir, 'shards', 'out')], /--out .* lies inside the input directory .*shards/],
    [['sample', '-n', '1', input, '--on-error', 'skip', '--out', dir], /--out .* holds the input .*in\.jsonl/],
    [['tokenize', 'train', input, '--on-error', 'skip', '--merges', '5', '-o', input], /--out .*in\.jsonl is also an input/],
  ];
  for (const [args, message] of cases) {
    const result = await runLoom(args);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assert.equal(result.stdout, '');
    assert.equal(readFileSync(input, 'utf8'), text, args.join(' '));
  }
  assert.deepEqual(readdirSync(join(dir, 'shards')), ['part.jsonl']);
  // The same file arriving on stdin (`loom cat --rejects in.jsonl < in.jsonl`).
  const redirected = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), LOOM_BIN, 'cat', '--on-error', 'skip', '--rejects', input], { stdio: [openSync(input, 'r'), 'pipe', 'pipe'], encoding: 'utf8' });
  assert.equal(redirected.status, 2, redirected.stderr);
  assert.match(redirected.stderr, /--rejects .*in\.jsonl is the input <stdin>/);
  assert.equal(readFileSync(input, 'utf8'), text);
});

test('usage errors are caught before any work, exit 2, in loom\'s words', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const input = join(dir, 'in.jsonl');
  writeFileSync(input, '{"text":"a b c"}\n');
  writeFileSync(join(dir, 'file'), 'not a directory');
  writeFileSync(join(dir, 'bad.json'), '{"seed": 1,}');
  const before = readdirSync(dir).sort();
  const rejects = ['--rejects', join(dir, 'rejects.jsonl')];
  const shards = ['--out', join(dir, 'shards')];
  const cases: [string[], RegExp, Record<string, string>?][] = [
    [['cat', input, '--seed', 'abc', ...rejects], /^loom: --seed must be an integer, got something that is not a number$/m],
    [['sample', '-n', '1', input, ...rejects], /^loom: --seed must be an integer/m, { LOOM_SEED: 'abc' }],
    [['cat', input, '--out', join(dir, 'file'), ...rejects], /^loom: --out .*file: exists and is not a directory$/m],
    [['dedup', input, '--tmp-dir', join(dir, 'nonexistent'), ...rejects], /^loom: --tmp-dir .*nonexistent: no such directory$/m],
    [['cat', input, '--config', join(dir, 'missing.json')], /^loom: --config .*missing\.json: no such file$/m],
    [['cat', input, '--config', join(dir, 'bad.json')], /^loom: --config .*bad\.json: not valid JSON/m],
    [['eval', 'foo', 'ckpt', 'data'], /^loom: unknown eval subcommand "foo"; one of: ppl$/m],
    [['sample', '-n', '0', input, ...rejects], /^loom: --count must be a whole number ≥ 1, got 0$/m],
    [['tokenize', input, '--seq-len', '0', ...shards, ...rejects], /^loom: --seq-len must be a whole number ≥ 1, got 0$/m],
    [['tokenize', input, '--val-fraction', '2', ...shards], /^loom: --val-fraction must be a number from 0 to 1, got 2$/m],
    [['extract', input, '-j', '-1', ...rejects], /^loom: --workers must be a whole number ≥ 0, got -1$/m],
    [['langid', input, '--min-lang-score', '1.5', ...rejects], /^loom: --min-lang-score must be a number from 0 to 1/m],
    [['dedup', input, '--workers', '1.5', ...rejects], /^loom: --workers must be a whole number ≥ 0, got 1\.5$/m],
    [['cat', input, '--rejects', dir], /^loom: --rejects .*: is a directory; give a file path$/m],
  ];
  for (const [args, message, env] of cases) {
    const result = await runLoom(args, { env });
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message, args.join(' '));
    assert.equal(result.stdout, '');
    assert.deepEqual(readdirSync(dir).sort(), before, `${args.join(' ')} wrote files before refusing`);
  }
});
