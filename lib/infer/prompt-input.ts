// Where `loom generate` finds its prompts. The words after the checkpoint are prompts, or inputs:
// a word is an input when it is `-`, names an existing file or directory, or looks like a data
// file's name (no spaces, ending .jsonl/.json/.ndjson/.txt, maybe .gz/.zst: a missing one is an
// error rather than a prompt). Inputs are JSONL records, except text (a `.txt` file, or stdin
// whose first byte that is not white space is not `{`), which is one prompt as a whole. Every
// prompt becomes a record `{"prompt": …}` with a location (`<argument>:2`, `<stdin>:1`, `a.txt:1`).
import { existsSync } from 'node:fs';
import { Readable } from 'node:stream';
import { UsageError } from '../errors.js';
import { detectCompression, decodedChunks } from '../io/compression.js';
import { resolveInputs, type InputSource } from '../io/inputs.js';
import { setLocation } from '../io/location.js';
import { countBytes, readSource, ReadCounters, type ReadOptions } from '../io/read.js';
import { isTextFile } from '../io/text-input.js';
import type { Doc } from '../io/types.js';

export const INPUT_FORMATS = ['auto', 'jsonl', 'text'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

const DATA_FILE_NAME = /^\S+\.(jsonl|ndjson|json|txt)(\.gz|\.zst)?$/i;

/** The command line's words after the checkpoint: prompts, or input files (never both). */
export function splitPromptWords(words: readonly string[]): { prompts: string[] } | { inputs: string[] } {
  const isInput = (word: string) => word === '-' || DATA_FILE_NAME.test(word) || existsSync(word);
  const inputs = words.filter(isInput);
  if (inputs.length === 0 && words.length > 0) return { prompts: [...words] };
  if (inputs.length < words.length) throw new UsageError(`give prompts or input files, not both (${JSON.stringify(inputs[0])} is a file, ${JSON.stringify(words.find((w) => !isInput(w)))} a prompt)`);
  return { inputs: [...words] };
}

/** How prompts are read: `read` as runWithInputs calls it (lib/cli/pipeline.ts's DocInput), and whether any input is JSONL. */
export interface PromptSource {
  read(specs: readonly string[], opts: ReadOptions): AsyncIterable<Doc>;
  resolve(specs: readonly string[]): Promise<{ name: string; size?: number }[]>;
  /** Some input is JSONL (so records are written as JSONL by default). */
  jsonl: boolean;
}

/** Prompts given on the command line, one record each. */
export function argumentPrompts(prompts: readonly string[]): PromptSource {
  return {
    jsonl: false,
    // One source, sized so that progress can show a percentage.
    resolve: async () => [{ name: '<argument>', size: prompts.reduce((sum, p) => sum + Buffer.byteLength(p), 0) }],
    async *read(_specs, opts) {
      const counters = opts.counters ?? new ReadCounters();
      for (const [i, prompt] of prompts.entries()) {
        counters.records += 1;
        counters.bytes += Buffer.byteLength(prompt);
        yield located({ prompt }, '<argument>', i + 1);
      }
    },
  };
}

/**
 * Files and stdin. `auto` reads `.txt` files as text and other files as JSONL, and looks at
 * stdin's first bytes to tell (so stdin is read through a stream that replays them).
 */
export async function inputPrompts(inputs: readonly string[], format: InputFormat, stdin: NodeJS.ReadableStream & { isTTY?: boolean } = process.stdin): Promise<PromptSource> {
  if (stdin.isTTY && (inputs.length === 0 || inputs.includes('-'))) throw new UsageError('no prompt: give one after the checkpoint, input files, or pipe text or JSONL on stdin');
  let stdinIsText = format === 'text';
  let replay: NodeJS.ReadableStream = stdin;
  if (format === 'auto' && (inputs.length === 0 || inputs.includes('-'))) {
    const peeked = await peekStream(stdin);
    stdinIsText = !startsLikeJsonl(peeked.head);
    replay = peeked.stream;
  }
  const isText = (source: InputSource) => format === 'text' || (source.name === '<stdin>' ? stdinIsText : format === 'auto' && isTextFile(source.name));
  const resolve = (specs: readonly string[]) => resolveInputs(specs, { stdin: replay });
  const sources = await resolve(inputs);
  return {
    jsonl: sources.some((s) => !isText(s)),
    resolve,
    async *read(specs, opts) {
      for (const source of await resolve(specs)) {
        if (isText(source)) yield await textPrompt(source, opts.counters ?? new ReadCounters());
        else yield* readSource(source, opts);
      }
    },
  };
}

/** A whole text source as one prompt, line endings as `\n` (as loom reads .txt documents); one final line break is not part of it (as `$(cat file)` drops it). */
async function textPrompt(source: InputSource, counters: ReadCounters): Promise<Doc> {
  const chunks: Buffer[] = [];
  for await (const chunk of countBytes(decodedChunks(source.open()), counters)) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString('utf8').replace(/^\uFEFF/, '').replace(/\r\n/g, '\n').replace(/\n$/, '');
  counters.files += 1;
  counters.records += 1;
  return located({ prompt: text }, source.name, 1);
}

function located(doc: Doc, file: string, line: number): Doc {
  setLocation(doc, { file, line });
  return doc;
}

/** JSONL starts with `{` after white space (and a BOM), or is compressed (stdin is JSONL when it is gzip or zstd). */
export function startsLikeJsonl(head: Buffer): boolean {
  if (detectCompression(head) !== 'none') return true;
  const text = head.toString('utf8').replace(/^\uFEFF/, '').trimStart();
  return text.startsWith('{');
}

/** The first bytes of a stream up to one that is not white space (or its end), and a stream that gives all of it again. */
async function peekStream(stream: NodeJS.ReadableStream): Promise<{ head: Buffer; stream: NodeJS.ReadableStream }> {
  const iterator = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const seen: Buffer[] = [];
  let head = Buffer.alloc(0);
  while (head.toString('utf8').replace(/^\uFEFF/, '').trim() === '' && head.length < 1 << 20) {
    const next = await iterator.next();
    if (next.done) break;
    seen.push(Buffer.from(next.value));
    head = Buffer.concat(seen);
  }
  const all = async function* () {
    yield* seen;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  };
  return { head, stream: Readable.from(all(), { objectMode: false }) };
}
