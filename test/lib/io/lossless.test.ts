import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { locationOf } from '../../../lib/io/location.js';
import { carryLine, losslessJson, rememberLine } from '../../../lib/io/lossless.js';
import { readDocs } from '../../../lib/io/read.js';
import { RejectSink } from '../../../lib/io/rejects.js';
import type { Doc } from '../../../lib/io/types.js';
import { writeJsonl } from '../../../lib/io/write.js';
import { createRandom } from '../../../lib/util/random.js';
import { tempDir } from '../../helpers/cli.js';

/** A record as the reader hands it on: parsed, with its line remembered. */
function read(line: string): Doc {
  const doc = JSON.parse(line) as Doc;
  rememberLine(doc, line);
  return doc;
}

// One line per class of value that JSON.parse followed by JSON.stringify changes.
const CLASSES: Record<string, string> = {
  'large integer': '{"id":12345678901234567891,"text":"a"}',
  'number out of double range': '{"big":1e400,"tiny":-1e-400,"text":"a"}',
  '-0': '{"neg0":-0.0,"z":-0,"text":"a"}',
  escapes: '{"e":"\\u00e9\\/\\ud83d\\ude00\\"","text":"a"}',
  'key order': '{"b":1,"a":2,"10":3,"2":4,"text":"a"}',
  'values inside objects and arrays': '{"meta":{"n":12345678901234567891,"x":[1e400,-0.0,"\\u00e9"]},"text":"a"}',
};

for (const [name, line] of Object.entries(CLASSES)) {
  test(`a record no stage changed is its line, byte for byte: ${name}`, () => {
    assert.equal(losslessJson(read(line)), line);
  });

  test(`a stage that adds and changes fields leaves the others' text alone: ${name}`, () => {
    const doc = read(line);
    doc.text = 'changed';
    doc.lang = 'en';
    assert.equal(losslessJson(doc), line.replace(/"text":"a"}$/, '"text":"changed","lang":"en"}'));
  });
}

test('whitespace between fields goes only when a field changed; each unchanged field keeps its text', () => {
  const line = '{ "a" : 1 ,\t"text":"a" }';
  assert.equal(losslessJson(read(line)), line);
  const doc = read(line);
  doc.lang = 'en';
  assert.equal(losslessJson(doc), '{"a" : 1,"text":"a","lang":"en"}');
});

test('a change inside a nested object or array is seen, and only that field is re-serialized', () => {
  const doc = read('{"id":12345678901234567891,"scores":{"q":0.5},"tags":["a"]}');
  (doc.scores as Record<string, number>).mine = 1;
  assert.equal(losslessJson(doc), '{"id":12345678901234567891,"scores":{"q":0.5,"mine":1},"tags":["a"]}');
  (doc.tags as string[]).push('b');
  assert.equal(losslessJson(doc), '{"id":12345678901234567891,"scores":{"q":0.5,"mine":1},"tags":["a","b"]}');
});

test('-0 set to 0, a field removed or set to undefined, and a value replaced by an equal one', () => {
  const doc = read('{"n":-0,"gone":1,"undef":2,"same":"\\u00e9","id":12345678901234567891}');
  doc.n = 0;
  delete doc.gone;
  doc.undef = undefined;
  doc.same = 'é';
  assert.equal(losslessJson(doc), '{"n":0,"same":"\\u00e9","id":12345678901234567891}');
});

test('keys with escapes, strings holding quotes, braces and backslashes are cut at the right places', () => {
  const line = '{"k\\"ey":"}{][,\\\\","t\\u0065xt":"a\\\\\\"b","arr":[{"x":"]"},"}"],"n":1}';
  const doc = read(line);
  assert.equal(losslessJson(doc), line);
  doc.n = 2;
  assert.equal(losslessJson(doc), line.replace('"n":1', '"n":2'));
  doc.text = 'new';
  assert.equal(losslessJson(doc), line.replace('"n":1', '"n":2').replace('"t\\u0065xt":"a\\\\\\"b"', '"t\\u0065xt":"new"'));
});

test('a duplicate key keeps both texts until it changes, then only its last place', () => {
  const doc = read('{"a":1,"b":2,"a":3}');
  doc.b = 5;
  assert.equal(losslessJson(doc), '{"a":1,"b":5,"a":3}');
  doc.a = 4;
  assert.equal(losslessJson(doc), '{"b":5,"a":4}');
});

test('a record built from another with carryLine keeps the fields it copied', () => {
  const doc = read('{"id":12345678901234567891,"text":"abc","x":1e400}');
  const { text: _text, ...rest } = doc;
  assert.equal(losslessJson(carryLine(doc, { ...rest, tokens: [1, 2] })), '{"id":12345678901234567891,"x":1e400,"tokens":[1,2]}');
});

test('a record that was not read from JSONL is JSON.stringify', () => {
  assert.equal(losslessJson({ id: 'a', n: -0 }), '{"id":"a","n":0}');
});

test('random records and random edits: the output parses to what JSON.stringify would write', () => {
  const random = createRandom(21);
  const pick = <T>(xs: T[]) => xs[random.int(xs.length)]!;
  const keys = ['id', 'text', 'a', '1', 'k"q', 'é', '__proto__'];
  const scalar = () => pick<unknown>([0, -1.5, 1e21, 'x', 'q"\\}{', '', true, null, 'é\n']);
  const value = (depth: number): unknown => {
    if (depth > 2 || random.int(3) > 0) return scalar();
    return random.int(2) ? Array.from({ length: random.int(3) }, () => value(depth + 1)) : Object.fromEntries(Array.from({ length: random.int(3) }, () => [pick(keys), value(depth + 1)]));
  };
  const space = () => pick(['', ' ', '\t', ' \r ']);
  for (let n = 0; n < 500; n++) {
    const fields = Array.from({ length: random.int(5) }, () => `${space()}${JSON.stringify(pick(keys))}${space()}:${space()}${JSON.stringify(value(0))}${space()}`);
    const line = `${space()}{${fields.join(',')}}${space()}`;
    const doc = read(line);
    for (let edits = random.int(3); edits > 0; edits--) {
      // Assigning to __proto__ would set the prototype, not a field.
      const key = pick(keys.slice(0, -1));
      const edit = random.int(3);
      if (edit === 0) delete doc[key];
      else if (edit === 1) doc[key] = value(0);
      else if (Object.hasOwn(doc, key) && typeof doc[key] === 'object' && doc[key] !== null) (doc[key] as Record<string, unknown>).added = 1;
    }
    const out = losslessJson(doc);
    assert.deepEqual(JSON.parse(out), JSON.parse(JSON.stringify(doc)), `line ${line} gave ${out}`);
  }
});

test('readDocs → writeJsonl and the rejects file keep every line as it was', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const lines = Object.values(CLASSES);
  const file = join(dir, 'in.jsonl');
  writeFileSync(file, lines.join('\n') + '\n');
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await writeJsonl(readDocs([file]), out);
  assert.equal(Buffer.concat(chunks).toString(), lines.join('\n') + '\n');

  const rejects = new RejectSink(join(dir, 'rejects.jsonl'));
  for await (const doc of readDocs([file])) rejects.addDoc(doc, 'test', 'stage', locationOf(doc));
  rejects.close();
  const written = readFileSync(join(dir, 'rejects.jsonl'), 'utf8').trimEnd().split('\n');
  assert.deepEqual(written, lines.map((line, i) => `{"reason":"test","stage":"stage","file":"${file}","line":${i + 1},"record":${line}}`));
});
