// Unknown fields pass through every stage untouched (docs/conventions.md), for every value JSON
// allows: each class of value below goes through each data command, and the fields a command did
// not add must come out as the very text they went in as.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runLoom, tempDir, type CliResult } from '../helpers/cli.js';

const SENTENCES = [
  'The committee approved the new budget after a long debate on Tuesday evening.',
  'Rivers carry water from the mountains to the sea through valleys and plains.',
  'A good loaf of bread needs flour, water, salt, yeast and a great deal of patience.',
  'The library opens early on weekdays and stays open late during the exam period.',
  'Migrating birds follow the coastline south when the autumn days grow shorter.',
];

// The fields each class puts before `text`; every class is one input line.
const CLASSES: Record<string, string> = {
  'large integer': '"id":12345678901234567891,"n":-98765432109876543210',
  'number out of double range': '"big":1e400,"tiny":-1e-400,"huge":[1E+999]',
  '-0': '"neg0":-0.0,"z":-0,"e":-0e0',
  escapes: '"e":"caf\\u00e9 \\/ \\ud83d\\ude00 \\"q\\"","\\u006bey":"\\t"',
  'key order': '"b":1,"a":2,"10":3,"2":4,"meta":{"z":1,"1":2}',
};
const names = Object.keys(CLASSES);
const lines = names.map((name, i) => `{${CLASSES[name]},"text":"${SENTENCES[i]}"}`);

const { dir, cleanup } = tempDir();
after(cleanup);
const input = join(dir, 'in.jsonl');
// A sixth line repeats the first one's text: dedup drops it to --rejects.
writeFileSync(input, [...lines, `{${CLASSES['large integer']},"copy":1e400,"text":"${SENTENCES[0]}"}`].join('\n') + '\n');

/** The input line with `added` appended as its last fields. */
const withFields = (line: string, added: string) => `${line.slice(0, -1)},${added}}`;
const withoutText = (line: string) => line.replace(/,"text":"[^"]*"}$/, '}');

// The same records with lang already set (for langid --keep-existing), and as pages (for extract).
const tagged = join(dir, 'tagged.jsonl');
writeFileSync(tagged, lines.map((l) => withFields(l, '"lang":"xx","lang_score":1e400')).join('\n') + '\n');
const pages = join(dir, 'pages.jsonl');
const html = (text: string) => `<html><body><article><p>${`${text} `.repeat(6)}</p></article></body></html>`;
writeFileSync(pages, lines.map((l, k) => withFields(withoutText(l), `"html":${JSON.stringify(html(SENTENCES[k]!))}`)).join('\n') + '\n');

/** Runs a command once; every test of that command reads the same output. */
const runs = new Map<string, Promise<CliResult>>();
function loom(args: string[]): Promise<CliResult> {
  const key = args.join(' ');
  if (!runs.has(key)) runs.set(key, runLoom(args));
  return runs.get(key)!;
}

/** `dedup signatures | buckets | clusters | filter`, once. */
let multiStage: Promise<string[]> | undefined;
function multiStageDedup(): Promise<string[]> {
  const work = join(dir, 'work');
  multiStage ??= (async () => {
    for (const step of [['signatures', input], ['buckets'], ['clusters']]) {
      const result = await runLoom(['dedup', ...step, '--work', work, '--quiet']);
      assert.equal(result.code, 0, result.stderr);
    }
    return outputLines(['dedup', 'filter', '--work', work, '--mode', 'tag', '--quiet']);
  })();
  return multiStage;
}

async function outputLines(args: string[]): Promise<string[]> {
  const result = await loom(args);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trimEnd().split('\n');
}

names.forEach((name, i) => {
  const line = lines[i]!;

  test(`cat writes each record as it read it: ${name}`, async () => {
    assert.equal((await outputLines(['cat', input, '--quiet']))[i], line);
  });

  test(`sample writes each record as it read it: ${name}`, async () => {
    assert.equal((await outputLines(['sample', '-n', '10', input, '--quiet']))[i], line);
  });

  test(`dedup keeps records as they were read, and the dropped copy verbatim in --rejects: ${name}`, async () => {
    const rejects = join(dir, 'dedup-rejects.jsonl');
    assert.equal((await outputLines(['dedup', input, '--rejects', rejects, '--quiet']))[i], line);
    const rejected = readFileSync(rejects, 'utf8');
    assert.ok(rejected.includes(`"record":{${CLASSES['large integer']},"copy":1e400,"text":`), rejected);
  });

  test(`dedup --mode tag adds its field and leaves the others' text alone: ${name}`, async () => {
    const out = (await outputLines(['dedup', '--mode', 'tag', input, '--quiet']))[i];
    assert.equal(out, withFields(line, `"dedup":{"cluster":"${input}:${i + 1}","size":${i === 0 ? 2 : 1},"kept":true}`));
  });

  test(`multi-stage dedup filter --mode tag adds its field and leaves the others' text alone: ${name}`, async () => {
    const out = (await multiStageDedup())[i];
    assert.equal(out, withFields(line, `"dedup":{"cluster":"${input}:${i + 1}","size":${i === 0 ? 2 : 1},"kept":true}`));
  });

  test(`langid adds lang and lang_score and leaves the others' text alone: ${name}`, async () => {
    const out = (await outputLines(['langid', input, '--quiet']))[i]!;
    assert.match(out, /,"lang":"en","lang_score":[\d.]+}$/);
    assert.equal(out.replace(/,"lang":"en","lang_score":[\d.]+}$/, '}'), line);
  });

  test(`langid --keep-existing writes a record that already has lang as it read it: ${name}`, async () => {
    assert.equal((await outputLines(['langid', '--keep-existing', tagged, '--quiet']))[i], withFields(line, '"lang":"xx","lang_score":1e400'));
  });

  test(`langid drops to --rejects with the record's fields as they were: ${name}`, async () => {
    const rejects = join(dir, 'langid-rejects.jsonl');
    await outputLines(['langid', '--langs', 'de', input, '--rejects', rejects, '--quiet']);
    const rejected = readFileSync(rejects, 'utf8').split('\n')[i]!;
    assert.match(rejected, /"record":\{.*,"lang":"en","lang_score":[\d.]+}}$/);
    assert.equal(rejected.replace(/^.*?"record":/, '').replace(/,"lang":"en","lang_score":[\d.]+}}$/, '}'), line);
  });

  test(`tokenize --format jsonl replaces text by tokens and leaves the others' text alone: ${name}`, async () => {
    const out = (await outputLines(['tokenize', '--format', 'jsonl', '--workers', '0', input, '--quiet']))[i]!;
    assert.match(out, /,"tokens":\[[\d,]+\]}$/);
    assert.equal(out.replace(/,"tokens":\[[\d,]+\]}$/, '}'), withoutText(line));
  });

  test(`extract keeps a JSONL page's other fields as they were: ${name}`, async () => {
    const out = (await outputLines(['extract', pages, '-j', '0', '--quiet']))[i]!;
    assert.ok(out.startsWith(`{${CLASSES[name]},"text":"`), out);
  });
});
