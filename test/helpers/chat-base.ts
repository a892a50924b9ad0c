// A tiny pretrained checkpoint with the default vocabulary (which has the ChatML tokens), made
// through the real CLI, for the fine-tuning commands' tests; and chat and preference records.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brownParagraphs } from '../lib/tokenizer/helpers.js';
import { runLoom } from './cli.js';

/**
 * A tiny base with a small byte-level BPE vocabulary (256 bytes and 1,000 merges learned on its text,
 * with the ChatML specials): an LM head over Qwen's 151,936 ids would be most of every test's time.
 */
export async function tinyChatBase(dir: string): Promise<string> {
  const docs = join(dir, 'docs.jsonl');
  writeFileSync(docs, brownParagraphs(2).slice(0, 120).map((text, i) => JSON.stringify({ id: `d${i}`, text })).join('\n') + '\n');
  const bytes = join(dir, 'bytes.tiktoken');
  writeFileSync(bytes, Array.from({ length: 256 }, (_, b) => `${Buffer.from([b]).toString('base64')} ${b}\n`).join(''));
  const vocab = join(dir, 'vocab.tiktoken');
  const train = await runLoom(['tokenize', 'train', docs, '--vocab', bytes, '--merges', '1000', '-o', vocab, '--quiet']);
  assert.equal(train.code, 0, train.stderr);
  const tok = await runLoom(['tokenize', docs, '--vocab', vocab, '--seq-len', '32', '--out', join(dir, 'shards'), '--quiet']);
  assert.equal(tok.code, 0, tok.stderr);
  const base = join(dir, 'base');
  const pre = await runLoom(['pretrain', '--data', join(dir, 'shards'), '--preset', 'tiny', '--device', 'cpu', '--seq-len', '32', '--batch', '4', '--steps', '2', '--warmup', '1', '--lr', '3e-3', '--out', base, '--quiet']);
  assert.equal(pre.code, 0, pre.stderr);
  return base;
}

/** Repeat-after-me tasks in the messages, alpaca and ShareGPT formats. */
export function chatRecords(n: number): object[] {
  const words = brownParagraphs(2).join(' ').split(/\s+/);
  return Array.from({ length: n }, (_, i) => {
    const s = words.slice(i * 5, i * 5 + 5).join(' ');
    if (i % 3 === 0) return { messages: [{ role: 'user', content: `Repeat: ${s}` }, { role: 'assistant', content: s }] };
    if (i % 3 === 1) return { instruction: 'Repeat the text.', input: s, output: s };
    return { conversations: [{ from: 'human', value: `Say back: ${s}` }, { from: 'gpt', value: s }] };
  });
}

/** Sums with the right answer chosen and a wrong one rejected. */
export function preferenceRecords(n: number): object[] {
  return Array.from({ length: n }, (_, i) => {
    const a = 2 + (i % 7), b = 3 + (i % 5);
    return { prompt: `What is ${a} plus ${b}?`, chosen: `${a + b}`, rejected: `${a + b + 1 + (i % 3)}` };
  });
}

export function writeJsonl(path: string, records: object[]): string {
  writeFileSync(path, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return path;
}
