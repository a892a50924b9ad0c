import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tiktoken } from 'tiktoken/lite';
import { parseJsonl, runLoom, tempDir } from '../helpers/cli.js';
import { brownParagraphs, chineseSentences, jiebaLines } from '../lib/tokenizer/helpers.js';
import { TokenDataset } from '../../lib/shards/dataset.js';
import { readTokenManifest } from '../../lib/shards/manifest.js';
import { Tokenizer } from '../../lib/tokenizer/tokenizer.js';

const docs = [
  ...brownParagraphs(2).slice(0, 150).map((text, i) => ({ id: `en-${i}`, text, lang: 'en' })),
  ...chineseSentences(150).map((text, i) => ({ id: `zh-${i}`, text, lang: 'zh' })),
];
const input = docs.map((d) => JSON.stringify(d)).join('\n') + '\n';

test('--format jsonl writes ids per document; decode gives the documents back', async () => {
  const encoded = await runLoom(['tokenize', '--format', 'jsonl', '--quiet', '--workers', '0'], { input });
  assert.equal(encoded.code, 0, encoded.stderr);
  const records = parseJsonl(encoded.stdout);
  assert.equal(records.length, docs.length);
  assert.ok(records.every((r) => Array.isArray(r.tokens) && !('text' in r)));
  const decoded = await runLoom(['tokenize', 'decode', '--quiet'], { input: encoded.stdout });
  assert.equal(decoded.code, 0, decoded.stderr);
  assert.deepEqual(parseJsonl(decoded.stdout).map((r) => ({ id: r.id, text: r.text, lang: r.lang })), docs);
});

test('shards: identical bytes for 0 and 2 workers, windows readable, split by document, resumable', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const args = (out: string, workers: string) => ['tokenize', '--seq-len', '64', '--shard-tokens', '2000', '--val-fraction', '0.1', '--shuffle-buffer', '50', '--seed', '3', '--workers', workers, '--out', out, '--quiet'];
  const inline = await runLoom(args(join(dir, 'w0'), '0'), { input });
  assert.equal(inline.code, 0, inline.stderr);
  const threaded = await runLoom(args(join(dir, 'w2'), '2'), { input });
  assert.equal(threaded.code, 0, threaded.stderr);
  const files = readdirSync(join(dir, 'w0')).filter((f) => f.endsWith('.bin')).sort();
  assert.deepEqual(readdirSync(join(dir, 'w2')).filter((f) => f.endsWith('.bin')).sort(), files);
  for (const file of files) assert.ok(readFileSync(join(dir, 'w0', file)).equals(readFileSync(join(dir, 'w2', file))), file);

  const manifest = readTokenManifest(join(dir, 'w0'))!;
  assert.equal(manifest.complete, true);
  assert.equal(manifest.counts.documents, docs.length);
  assert.equal(manifest.counts.train_documents! + manifest.counts.val_documents!, docs.length);
  assert.ok(manifest.counts.val_documents! > 5 && manifest.counts.val_documents! < 60);
  assert.ok(manifest.splits.train.shards.length >= 3 && manifest.splits.val.shards.length >= 1);

  const tokenizer = Tokenizer.load({});
  t.after(() => tokenizer.free());
  const data = new TokenDataset(join(dir, 'w0'), { vocabHash: tokenizer.hash });
  t.after(() => data.close());
  assert.equal(data.windowCount, manifest.splits.train.windows);
  assert.equal(data.window(0)[0], tokenizer.eot, 'the stream starts with <|endoftext|>');
  assert.equal(data.window(data.windowCount - 1).length, 65);

  // Decoding both splits gives every document once (shuffled).
  const decoded = await runLoom(['tokenize', 'decode', join(dir, 'w0'), '--quiet']);
  assert.equal(decoded.code, 0, decoded.stderr);
  const texts = parseJsonl(decoded.stdout).map((r) => r.text as string);
  assert.deepEqual(texts.sort(), docs.map((d) => d.text.normalize('NFC')).sort());
  assert.notDeepEqual(texts.slice(0, 20), docs.slice(0, 20).map((d) => d.text));

  // Interrupt: forget the last train shards and mark the run unfinished; a rerun rebuilds them.
  const path = join(dir, 'w0', 'manifest.json');
  const partial = JSON.parse(readFileSync(path, 'utf8'));
  const dropped = partial.splits.train.shards.splice(1);
  partial.complete = false;
  writeFileSync(path, JSON.stringify(partial));
  for (const shard of dropped) rmSync(join(dir, 'w0', shard.file));
  writeFileSync(join(dir, 'w0', 'train-00001.bin.tmp'), 'half-written');
  const resumed = await runLoom(args(join(dir, 'w0'), '0').filter((a) => a !== '--quiet'), { input });
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /resumed after 2 finished shards/);
  for (const file of files) assert.ok(readFileSync(join(dir, 'w0', file)).equals(readFileSync(join(dir, 'w2', file))), `${file} after resume`);
  assert.ok(!existsSync(join(dir, 'w0', 'train-00001.bin.tmp')));

  // stdin has no fingerprint: a finished run fed stdin again checks the tokens, and refuses other input.
  const again = await runLoom(args(join(dir, 'w0'), '0').filter((a) => a !== '--quiet'), { input });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /already complete/);
  const more = await runLoom(args(join(dir, 'w0'), '0'), { input: input + JSON.stringify({ id: 'extra', text: 'one more document' }) + '\n' });
  assert.equal(more.code, 1, more.stderr);
  assert.match(more.stderr, /the input is not the one that run read/);
  const edited = await runLoom(args(join(dir, 'w0'), '0'), { input: input.replace('en-3', 'en-3').replace(docs[3]!.text, 'an edited paragraph') });
  assert.equal(edited.code, 1, edited.stderr);
  assert.match(edited.stderr, /the input is not the one that run read/);
  for (const file of files) assert.ok(readFileSync(join(dir, 'w0', file)).equals(readFileSync(join(dir, 'w2', file))), `${file} untouched by refused reruns`);

  const other = await runLoom(args(join(dir, 'w0'), '0').map((a) => (a === '64' ? '32' : a)), { input });
  assert.equal(other.code, 2);
  assert.match(other.stderr, /different run/);
});

test('usage errors: binary output needs --out; documents without text are dropped as "no text", as by every text stage', async (t) => {
  const noOut = await runLoom(['tokenize'], { input });
  assert.equal(noOut.code, 2);
  assert.match(noOut.stderr, /give --out DIR/);
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  writeFileSync(join(dir, 'bad.jsonl'), '{"text":"fine"}\n{"id":"x"}\n');
  const rejects = join(dir, 'rejects.jsonl');
  const bad = await runLoom(['tokenize', '--format', 'jsonl', '--workers', '0', join(dir, 'bad.jsonl'), '--rejects', rejects]);
  assert.equal(bad.code, 0, bad.stderr);
  assert.equal(parseJsonl(bad.stdout).length, 1);
  assert.match(bad.stderr, /1 dropped \(1 no text\)/);
  assert.deepEqual(parseJsonl(readFileSync(rejects, 'utf8')).map((r) => [r.reason, r.line]), [['no text', 2]]);
});

test('stats: Chinese needs far fewer tokens than cl100k, English about as many', async () => {
  const result = await runLoom(['tokenize', 'stats', '--json', '--quiet'], { input });
  assert.equal(result.code, 0, result.stderr);
  const { languages } = JSON.parse(result.stdout);
  assert.ok(languages.zh.ratio < 0.7, `zh ${languages.zh.ratio}`);
  assert.ok(languages.en.ratio <= 1.04, `en ${languages.en.ratio}`);
  assert.equal(languages.all.docs, docs.length);
});

test('train writes a rank file that --vocab loads; a .tiktoken file + special ids reproduce tiktoken', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  writeFileSync(join(dir, 'words.tsv'), jiebaLines(3000).map((l) => l.split(' ').slice(0, 2).join('\t')).join('\n'));
  const out = join(dir, 'zh.tiktoken');
  const trained = await runLoom(['tokenize', 'train', '--wordlist', join(dir, 'words.tsv'), '--merges', '300', '--out', out]);
  assert.equal(trained.code, 0, trained.stderr);
  assert.match(trained.stderr, /"added":300/);
  const specials = { '<|endoftext|>': 99_456, '<|im_start|>': 99_457, '<|im_end|>': 99_458 };
  writeFileSync(join(dir, 'specials.json'), JSON.stringify(specials));
  const text = docs.slice(140, 160).map((d) => d.text).join('\n');
  const encoded = await runLoom(['tokenize', '--format', 'jsonl', '--vocab', out, '--special-tokens', join(dir, 'specials.json'), '--workers', '0', '--quiet'], { input: JSON.stringify({ text }) + '\n' });
  assert.equal(encoded.code, 0, encoded.stderr);
  const tokenizer = Tokenizer.load({ vocab: out, specialTokens: join(dir, 'specials.json') });
  const reference = new Tiktoken(readFileSync(out, 'latin1'), specials, tokenizer.vocab.pattern);
  t.after(() => (tokenizer.free(), reference.free()));
  assert.equal(tokenizer.vocab.tokens.length, 99_456);
  assert.deepEqual(parseJsonl(encoded.stdout)[0]!.tokens, Array.from(reference.encode_ordinary(text.normalize('NFC'))));
});
