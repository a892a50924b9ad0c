// `loom generate` as a stage over records: each record's prompt is encoded, its samples submitted
// to the engine (which runs them concurrently with the other records'), and its output records
// come out in input order, though samples finish out of order. At most `window` samples are held
// between submission and output, so memory stays bounded however long the input is, while the
// engine always has more queued than it decodes at once. With tools, each sample is a ReAct run
// (lib/infer/react.ts) and its record gains the trace of its tool calls.
import { promptConversation } from '../chat/formats.js';
import { DataError, UsageError } from '../errors.js';
import { locationOf } from '../io/location.js';
import { carryLine } from '../io/lossless.js';
import type { RejectSink } from '../io/rejects.js';
import type { Doc, OnError } from '../io/types.js';
import { StageRun, type StageContext } from '../stage.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import { CompletionText } from './completion-text.js';
import { encodePrompt, type PromptOptions } from './prompts.js';
import { runReact, withReactPrompt, type ReactStep } from './react.js';
import type { ToolUse } from './tools/flags.js';
import type { GenerateEngine, Generation, SamplingParams } from './types.js';

export interface GenerateRecordsOptions extends PromptOptions {
  engine: GenerateEngine;
  tokenizer: Tokenizer;
  /** Every sample's parameters but its seed, which sampleSeed derives. */
  sampling: Omit<SamplingParams, 'seed'>;
  /** Samples per record. */
  n: number;
  seed: number;
  /** Strings that end a completion (cut before them). */
  stops: readonly string[];
  /** Add each new token's log-probability as `logprobs`. */
  logprobs: boolean;
  /** A prompt with no room left in the context: refused, or cut to its last context − maxNew tokens. */
  truncate: 'none' | 'left';
  /** A record with no usable prompt: fail with its file:line, or drop it (to --rejects). */
  onError: OnError;
  /** Most samples between submission and output. */
  window: number;
  /** Hears each sample's text as it is decoded (`sample` counts samples across records); `done` with its last piece. */
  onText?: (sample: number, text: string, done: boolean) => void;
  rejects?: RejectSink;
  /** Each prompt's last user turn asks for ReAct steps with these tools, and the loop runs them. */
  tools?: ToolUse;
}

/** The fields a sample adds to its record, in this order. */
export interface SampleFields {
  sample?: number;
  completion: string;
  /** max_steps: with tools, the model asked for more tool calls than --max-steps. */
  finish_reason: Generation['finish'] | 'max_steps';
  prompt_tokens: number;
  completion_tokens: number;
  logprobs?: number[];
  /** With tools: each call, in order. */
  trace?: ReactStep[];
}

export const PROMPT_TOO_LONG = 'prompt longer than the context';

export function generateRecords(docs: AsyncIterable<Doc>, o: GenerateRecordsOptions): StageRun {
  if (o.truncate === 'left' && o.sampling.maxNew >= o.engine.contextLength)
    throw new UsageError(`--truncate left keeps the last context − max-new-tokens tokens of a prompt: give --max-new-tokens below the context (${o.engine.contextLength} tokens)`);
  if (o.tools && (o.stops.length > 0 || o.logprobs))
    throw new UsageError(`${o.stops.length > 0 ? '--stop' : '--logprobs'} cannot go with tools: a tool-using answer is several generations, stopped at "Observation:" and ended at its Final Answer`);
  return new StageRun('generate', docs, (input, ctx) => generate(input, o, ctx), o.rejects);
}

/**
 * The seed of sample `sample` of the `record`-th input record (from 0): a hash of the three, so a
 * record's samples are the same whatever batch they run in and whatever else is being generated.
 */
export function sampleSeed(seed: number, record: number, sample: number): number {
  let h = mix(seed >>> 0);
  h = mix((h ^ record) >>> 0);
  return mix((h ^ Math.imul(sample + 1, 0x9e3779b9)) >>> 0);
}

/** murmur3's 32-bit finalizer. */
function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

async function* generate(docs: AsyncIterable<Doc>, o: GenerateRecordsOptions, ctx: StageContext): AsyncGenerator<Doc> {
  const queue: { outputs: Promise<Doc[]>; samples: number; done: boolean }[] = [];
  let held = 0;
  let record = 0;
  let samples = 0;
  const next = async () => {
    const head = queue.shift()!;
    held -= head.samples;
    return head.outputs;
  };
  for await (const doc of docs) {
    const index = record++;
    let prompt: Int32Array | undefined;
    try {
      prompt = fitPrompt(doc, o, ctx);
    } catch (err) {
      // The records before the bad one are still delivered, as a Unix filter would.
      while (queue.length > 0) yield* await next();
      throw err;
    }
    if (prompt === undefined) continue;
    // Room first: output whatever is done at the head, and wait while the window is full.
    while (queue.length > 0 && (queue[0]!.done || held + o.n > o.window)) yield* await next();
    const firstSample = samples;
    samples += o.n;
    const outputs = Promise.all(Array.from({ length: o.n }, (_, j) => runSample(prompt, sampleSeed(o.seed, index, j), firstSample + j, o, ctx))).then((fields) =>
      fields.map((f, j) => Object.assign(o.n === 1 ? doc : carryLine(doc, { ...doc }), o.n === 1 ? f : { sample: j, ...f })),
    );
    const entry = { outputs, samples: o.n, done: false };
    // Awaited in order below; until then a failure must not count as unhandled.
    outputs.then(() => (entry.done = true), () => {});
    queue.push(entry);
    held += o.n;
  }
  while (queue.length > 0) yield* await next();
}

/** The prompt's ids as the engine takes them, or undefined when the record was dropped. */
function fitPrompt(doc: Doc, o: GenerateRecordsOptions, ctx: StageContext): Int32Array | undefined {
  const context = o.engine.contextLength;
  const encoded = encodePrompt(o.tools ? toolPromptDoc(doc, o.tools) : doc, o.tokenizer, o);
  let reason: string, message: string;
  if (typeof encoded === 'string') reason = message = encoded;
  else if (encoded.length === 0) reason = message = 'empty prompt';
  else if (o.truncate === 'left' && encoded.length > context - o.sampling.maxNew) {
    ctx.count('truncated');
    return Int32Array.from(encoded.subarray(encoded.length - (context - o.sampling.maxNew)));
  } else if (encoded.length >= context) {
    reason = PROMPT_TOO_LONG;
    message = `prompt of ${encoded.length} tokens leaves no room in the context of ${context} (raise --max-len, or --truncate left keeps its last tokens`;
  } else return Int32Array.from(encoded);
  if (o.onError === 'fail') throw new DataError(`${message}${message === reason ? ' (' : '; '}--on-error skip drops such records)`, locationOf(doc));
  ctx.drop(doc, reason);
  return undefined;
}

/**
 * The record as a conversation whose last user turn asks for ReAct steps (a `prompt` string is
 * that turn); a record that is no conversation stays as it is, for encodePrompt to say why.
 */
function toolPromptDoc(doc: Doc, tools: ToolUse): Doc {
  const items = !('messages' in doc) && typeof doc.prompt === 'string' ? [{ role: 'user', content: doc.prompt }] : 'messages' in doc ? doc.messages : doc.prompt;
  const messages = Array.isArray(items) ? promptConversation(items) : undefined;
  return messages === undefined || typeof messages === 'string' ? doc : { messages: withReactPrompt(messages, tools.tools) };
}

async function runSample(prompt: Int32Array, seed: number, ordinal: number, o: GenerateRecordsOptions, ctx: StageContext): Promise<SampleFields> {
  if (o.tools) return runToolSample(prompt, seed, ordinal, o.tools, o, ctx);
  const text = new CompletionText(o.tokenizer, o.stops);
  const generation = await o.engine.submit({
    prompt,
    params: { ...o.sampling, seed },
    onToken: (token) => {
      // The engine may let a stop token through here; it is no part of the text.
      if (o.sampling.stopTokens.includes(token)) return;
      const more = text.push(token);
      if (o.onText) o.onText(ordinal, text.take(), false);
      return more;
    },
  });
  const rest = text.finish();
  o.onText?.(ordinal, rest, true);
  ctx.count('new tokens', generation.tokens.length);
  ctx.count(text.stopped || generation.finish === 'stop' ? 'stopped' : 'at length');
  return {
    completion: text.toString(),
    finish_reason: text.stopped ? 'stop' : generation.finish,
    prompt_tokens: generation.promptTokens,
    completion_tokens: generation.tokens.length,
    ...(o.logprobs && { logprobs: generation.logprobs.map((p) => Number(p.toFixed(6))) }),
  };
}

/** A sample that may call tools: the ReAct loop's answer as the completion, its calls as the trace. */
async function runToolSample(prompt: Int32Array, seed: number, ordinal: number, tools: ToolUse, o: GenerateRecordsOptions, ctx: StageContext): Promise<SampleFields> {
  const result = await runReact({
    engine: o.engine,
    tokenizer: o.tokenizer,
    tools: tools.tools,
    prompt,
    sampling: { ...o.sampling, seed },
    maxSteps: tools.maxSteps,
    onText: o.onText && ((text) => o.onText!(ordinal, text, false)),
  });
  o.onText?.(ordinal, '', true);
  ctx.count('new tokens', result.completionTokens);
  ctx.count('tool calls', result.steps.length);
  ctx.count(result.finish === 'answer' ? 'stopped' : 'at length');
  return {
    completion: result.answer,
    finish_reason: result.finish === 'answer' ? 'stop' : result.finish === 'max_steps' ? 'max_steps' : 'length',
    prompt_tokens: result.promptTokens,
    completion_tokens: result.completionTokens,
    trace: result.steps,
  };
}
