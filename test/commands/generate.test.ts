import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { logitsAt } from '../../lib/model/lm-head.js';
import { checkpointVocabulary, loadModel } from '../../lib/model/load.js';
import type { Trunk } from '../../lib/model/trunk.js';
import { stopTokenIds } from '../../lib/tokenizer/hf.js';
import { Tokenizer } from '../../lib/tokenizer/tokenizer.js';
import { tinyChatBase, writeJsonl } from '../helpers/chat-base.js';
import { parseJsonl, runLoom, tempDir } from '../helpers/cli.js';

/** Greedy decoding without a cache: the whole sequence through the model again for every token. */
function uncachedGreedy(trunk: Trunk, prompt: ArrayLike<number>, maxNew: number, stop: number[]): number[] {
  const ids = Array.from(prompt);
  const out: number[] = [];
  while (out.length < maxNew) {
    const logits = logitsAt(trunk, trunk.forward({ ids: Int32Array.from(ids), rows: 1, seqLen: ids.length }), Int32Array.of(ids.length - 1));
    let next = 0;
    for (let v = 1; v < logits.length; v++) if (logits[v]! > logits[next]!) next = v;
    if (stop.includes(next)) break;
    ids.push(next);
    out.push(next);
  }
  return out;
}

test('loom generate: text and records from a tiny checkpoint on the CPU', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const base = await tinyChatBase(dir);
  const cpu = ['--device', 'cpu', '--quiet'];

  // A prompt argument: the greedy continuation streamed as text, the same as the prefix-recomputing
  // reference gives, and as the record --json writes.
  const prompt = 'The jury said';
  const text = await runLoom(['generate', base, prompt, '-t', '0', '--max-new-tokens', '12', ...cpu]);
  assert.equal(text.code, 0, text.stderr);
  assert.ok(text.stdout.endsWith('\n'));
  const model = loadModel(base, { device: 'cpu', capacity: 32 });
  const tokenizer = new Tokenizer(checkpointVocabulary(model.checkpoint));
  const ids = tokenizer.encodeOrdinary(prompt);
  const reference = uncachedGreedy(model.trunk, ids, 12, stopTokenIds(tokenizer.vocab));
  assert.equal(text.stdout, `${tokenizer.decode(reference)}\n`, 'greedy decoding equals the uncached reference');
  const record = await runLoom(['generate', base, prompt, '<|im_end|>', '-t', '0', '--max-new-tokens', '12', '--json', '--logprobs', ...cpu]);
  assert.equal(record.code, 0, record.stderr);
  const [r, typed] = parseJsonl(record.stdout);
  assert.deepEqual(Object.keys(r!), ['prompt', 'completion', 'finish_reason', 'prompt_tokens', 'completion_tokens', 'logprobs']);
  assert.equal(r!.completion, text.stdout.slice(0, -1));
  assert.equal(r!.prompt_tokens, ids.length);
  assert.equal(r!.completion_tokens, reference.length);
  assert.equal(r!.finish_reason, reference.length === 12 ? 'length' : 'stop');
  assert.equal((r!.logprobs as number[]).length, reference.length);
  assert.ok((r!.logprobs as number[]).every((p) => p <= 0));
  assert.ok((typed!.prompt_tokens as number) > 1, 'typed special tokens are text: several tokens, not the one special id');

  // A checkpoint that asks for greedy decoding in generation_config.json gets it without -t 0.
  const generationConfig = join(base, 'generation_config.json');
  const recommended = JSON.parse(readFileSync(generationConfig, 'utf8'));
  writeFileSync(generationConfig, JSON.stringify({ ...recommended, do_sample: false }));
  const greedy = await runLoom(['generate', base, prompt, '--max-new-tokens', '12', ...cpu]);
  assert.equal(greedy.stdout, text.stdout);
  writeFileSync(generationConfig, JSON.stringify(recommended));

  // The same text on stdin is the same prompt (one final line break dropped).
  const stdin = await runLoom(['generate', base, '-t', '0', '--max-new-tokens', '12', ...cpu], { input: `${prompt}\n` });
  assert.equal(stdin.stdout, text.stdout);


  // JSONL records: in order, -n samples each, a seeded sample independent of the batch, rejects with file:line.
  const input = writeJsonl(join(dir, 'prompts.jsonl'), [
    { id: 'a', prompt: 'It was' },
    { id: 'b', messages: [{ role: 'user', content: 'Say hello' }] },
    { id: 'long', prompt: 'word '.repeat(80) },
    { id: 'c', prompt: [{ role: 'user', content: 'Hi' }] },
    { id: 'none' },
  ]);
  const rejects = join(dir, 'rejects.jsonl');
  const args = ['generate', base, input, '-n', '2', '--seed', '3', '--max-new-tokens', '6', '--max-len', '48', '--on-error', 'skip', '--rejects', rejects, '--device', 'cpu'];
  const wide = await runLoom(args);
  assert.equal(wide.code, 0, wide.stderr);
  const rows = parseJsonl(wide.stdout);
  assert.deepEqual(rows.map((x) => [x.id, x.sample]), ['a', 'b', 'c'].flatMap((id) => [[id, 0], [id, 1]]));
  assert.ok(rows.every((x) => typeof x.completion === 'string' && (x.completion_tokens as number) <= 6));
  assert.match(wide.stderr, /loom generate: 5 in · 6 out · 0 rejected lines · 2 dropped \(1 no "prompt" or "messages", 1 prompt longer than the context\)/);
  assert.match(wide.stderr, /loom generate: 6 samples · \d+ new tokens at \d+ tokens\/s/);
  const rejected = parseJsonl(readFileSync(rejects, 'utf8'));
  assert.deepEqual(rejected.map((x) => [x.reason, x.file, x.line]), [['prompt longer than the context', input, 3], ['no "prompt" or "messages"', input, 5]]);
  const narrow = await runLoom([...args, '--max-batch', '1']);
  assert.equal(narrow.stdout, wide.stdout, 'the same samples one sequence at a time');
  const invariant = await runLoom([...args, '--batch-invariant']);
  assert.equal(invariant.stdout, wide.stdout, 'the same samples in batch-invariant mode (the CPU always is)');

  // Under --on-error fail (the default) the long prompt stops the run with its file:line.
  const fail = await runLoom(['generate', base, input, '--max-new-tokens', '2', '--max-len', '48', ...cpu]);
  assert.equal(fail.code, 1);
  assert.match(fail.stderr, new RegExp(`${input}:3: prompt of \\d+ tokens leaves no room in the context of 48`));
  assert.equal(parseJsonl(fail.stdout).length, 2, 'the records before it were written');

  // Usage errors, before any work.
  for (const bad of [['--stop-token', '<|nope|>'], ['--out', join(dir, 'o')], ['--truncate', 'left', '--max-new-tokens', '64']]) {
    const r = await runLoom(['generate', base, 'Hi', ...bad, ...cpu]);
    assert.equal(r.code, 2, `${bad.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '');
  }
});
