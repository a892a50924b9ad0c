// A conversation with a model, without any screen: the history, the system prompt, the sampling
// settings, the /commands, each answer streamed from the engine and stopped on request. The ink
// view (lib/ui/chat.tsx) and the line mode of `loom chat` (lib/cli/chat.ts) both drive one.
// Every turn renders the whole conversation in ChatML; the engine prefills only what its cache does
// not already hold from the turn before (reusePrefix); when it outgrows the context, the oldest
// exchanges are left out of the prompt (they stay in the history and in /save). With tools, each
// answer is a ReAct loop (react.ts) whose trace streams apart from the answer, and whose Final
// Answer is the turn kept.
import { readFileSync, writeFileSync } from 'node:fs';
import { promptConversation } from '../chat/formats.js';
import { concat, encodeTurns, exchangeStarts, headLength, totalLength, withSystemPrompt } from '../chat/turns.js';
import { errorMessage } from '../errors.js';
import { integer, nonNegativeInteger, nonNegativeNumber, positiveInteger, positiveNumber, validator, type Validator } from '../cli/validate.js';
import { encodeChat, type ChatMessage } from '../tokenizer/chatml.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import { CompletionText } from './completion-text.js';
import { sampleSeed } from './generate-records.js';
import { runReact, withReactPrompt, type ReactFinish, type ReactStep } from './react.js';
import type { Tool } from './tools/types.js';
import type { GenerateEngine, SamplingParams } from './types.js';

/** What `/set` changes: every sampling setting but the stop tokens. */
export type ChatSettings = Omit<SamplingParams, 'stopTokens'>;

/** The settings by the names `/set` and the screen use, with their ranges. */
export const SETTINGS: readonly { name: string; key: keyof ChatSettings; check: (name: string) => Validator<number> }[] = [
  { name: 'temperature', key: 'temperature', check: nonNegativeNumber },
  { name: 'top_p', key: 'topP', check: (name) => validator<number>(name, 'a number above 0 up to 1', (v) => v > 0 && v <= 1) },
  { name: 'top_k', key: 'topK', check: nonNegativeInteger },
  { name: 'max_new', key: 'maxNew', check: positiveInteger },
  { name: 'repetition_penalty', key: 'repetitionPenalty', check: positiveNumber },
  { name: 'seed', key: 'seed', check: integer },
];

export const CHAT_HELP = [
  '/reset              forget the conversation (the system prompt and settings stay)',
  '/system TEXT        set the system prompt ("/system" alone shows it, /system "" removes it)',
  '/set NAME=VALUE ..  temperature, top_p, top_k, max_new, repetition_penalty, seed',
  '/save FILE          write the conversation as one JSONL record {"messages": [...]}',
  '/load FILE          continue the conversation of such a record',
  '/help               this list',
  '/quit               leave (also Ctrl-C at the prompt, or Ctrl-D)',
  'Ctrl-C while the model answers stops the answer. Start a message with // to send one that begins with /.',
].join('\n');

/**
 * 'stop': the model ended its turn; 'length': max_new or the context ran out; 'cancelled': cancel()
 * stopped it (the text so far is kept as the answer; with tools there is none yet); 'max_steps':
 * with tools, the model asked for one tool call more than allowed.
 */
export type AnswerFinish = 'stop' | 'length' | 'cancelled' | 'max_steps';

/** Where a streamed piece belongs: the answer, or (with tools) the Thought/Action/Observation trace before it. */
export type AnswerPart = 'answer' | 'trace';

export interface ChatAnswer {
  /** The assistant turn: the answer, with tools the Final Answer. */
  text: string;
  finish: AnswerFinish;
  /** New tokens (with tools, over every generation of the loop). */
  tokens: number;
  promptTokens: number;
  /** Of them, those the engine's cache held from the turn before (not prefilled again). */
  cachedTokens?: number;
  /** From the call to the first token sampled (encoding, and prefill of what the cache does not hold). */
  firstTokenMs?: number;
  /** The tokens after the first over the time since it (with tools, tool calls included); undefined below two tokens. */
  tokensPerSecond?: number;
  /** With tools: each call the model made, with its observation. */
  steps?: ReactStep[];
  /** Earlier messages left out of the prompt because the conversation outgrew the context. */
  leftOut: number;
  /** False when the answer was empty: the question and its empty answer are not kept. */
  kept: boolean;
}

/** What a line of input did. */
export type ChatOutcome =
  | { kind: 'answer'; answer: ChatAnswer }
  | { kind: 'notice'; text: string }
  | { kind: 'error'; text: string }
  | { kind: 'quit' };

export interface ChatSessionOptions {
  engine: GenerateEngine;
  tokenizer: Tokenizer;
  /** The ids that end the assistant's turn (<|im_end|>, <|endoftext|>, the checkpoint's eos). */
  stopTokens: readonly number[];
  /** '' for none. */
  system: string;
  settings: ChatSettings;
  /** Tools the model may call: each answer is then a ReAct loop (lib/infer/react.ts) whose Final Answer is the turn. */
  tools?: readonly Tool[];
  /** Most tool calls an answer makes (default 8). */
  maxSteps?: number;
}

/** An answer as a strategy (one generation, or the ReAct loop) gives it, before the session adds timing and history. */
type Reply = Pick<ChatAnswer, 'text' | 'finish' | 'tokens' | 'promptTokens' | 'cachedTokens' | 'steps'>;

const DEFAULT_MAX_STEPS = 8;

export class ChatSession {
  /** The conversation after the system prompt. */
  messages: ChatMessage[] = [];
  system: string;
  readonly settings: ChatSettings;
  private readonly o: ChatSessionOptions;
  private answering: AbortController | undefined;
  /** The answer being written, settled or not. */
  private pending: Promise<unknown> = Promise.resolve();
  /** Answers given so far: each turn's seed comes from the seed and this count, as generate's samples do. */
  private answered = 0;

  constructor(o: ChatSessionOptions) {
    this.o = o;
    this.system = o.system;
    this.settings = { ...o.settings };
  }

  get busy(): boolean {
    return this.answering !== undefined;
  }

  /** A line as typed: a /command, or a message to answer (its text streamed to `onText`). */
  async input(line: string, onText: OnText = () => {}): Promise<ChatOutcome> {
    if (line.startsWith('/') && !line.startsWith('//')) return this.command(line);
    const text = line.startsWith('//') ? line.slice(1) : line;
    if (text.trim() === '') return { kind: 'error', text: 'an empty message' };
    try {
      return { kind: 'answer', answer: await this.send(text, onText) };
    } catch (err) {
      if (err instanceof PromptTooLong) return { kind: 'error', text: err.message };
      throw err;
    }
  }

  /** Stops the answer being written (at its next token); false when there is none. */
  cancel(): boolean {
    if (!this.answering || this.answering.signal.aborted) return false;
    this.answering.abort();
    return true;
  }

  /** Stops the answer being written, if any, and waits until the engine has let it go. */
  async stop(): Promise<void> {
    this.cancel();
    await this.pending.catch(() => {});
  }

  /** Sends a user turn and streams the answer; the exchange joins the history unless the answer is empty. */
  send(content: string, onText: OnText = () => {}): Promise<ChatAnswer> {
    if (this.answering) throw new Error('chat: one answer at a time');
    const answer = this.answer(content, onText);
    this.pending = answer;
    return answer;
  }

  private async answer(content: string, onText: OnText): Promise<ChatAnswer> {
    const started = performance.now();
    const question: ChatMessage = { role: 'user', content };
    const conversation = [...this.messages, question];
    const tools = this.o.tools ?? [];
    const { ids, leftOut } = this.prompt(tools.length > 0 ? withReactPrompt(conversation, tools) : conversation);
    const controller = (this.answering = new AbortController());
    const sampling: SamplingParams = { ...this.settings, stopTokens: this.o.stopTokens, seed: sampleSeed(this.settings.seed, this.answered, 0) };
    let first: number | undefined;
    let last = started;
    const tick = () => {
      last = performance.now();
      first ??= last;
    };
    try {
      const run = { prompt: Int32Array.from(ids), sampling, signal: controller.signal, onText, tick };
      const reply = tools.length > 0 ? await this.react(run, tools) : await this.generate(run);
      this.answered += 1;
      const kept = reply.text.trim() !== '';
      if (kept) this.messages.push(question, { role: 'assistant', content: reply.text });
      return {
        ...reply,
        finish: controller.signal.aborted ? 'cancelled' : reply.finish,
        ...(first !== undefined && { firstTokenMs: first - started }),
        ...(reply.tokens >= 2 && last > first! && { tokensPerSecond: (reply.tokens - 1) / ((last - first!) / 1000) }),
        leftOut,
        kept,
      };
    } finally {
      this.answering = undefined;
    }
  }

  /** One generation, its text streamed as the answer. */
  private async generate(run: AnswerRun): Promise<Reply> {
    const text = new CompletionText(this.o.tokenizer);
    const { stopTokens } = run.sampling;
    let tokens = 0;
    const generation = await this.o.engine.submit({
      prompt: run.prompt,
      params: run.sampling,
      reusePrefix: true,
      onToken: (token) => {
        run.tick();
        // A token sampled after the cancel is not shown; the engine may let a stop token through, no part of the text.
        if (run.signal.aborted) return false;
        if (stopTokens.includes(token)) return;
        tokens += 1;
        text.push(token);
        const piece = text.take();
        if (piece) run.onText(piece, 'answer');
        return !run.signal.aborted;
      },
    });
    const rest = text.finish();
    if (rest) run.onText(rest, 'answer');
    return { text: text.toString(), finish: generation.finish, tokens, promptTokens: generation.promptTokens, cachedTokens: generation.cachedTokens };
  }

  /** The ReAct loop: its Thought/Action/Observation text streamed as the trace, its Final Answer the turn. */
  private async react(run: AnswerRun, tools: readonly Tool[]): Promise<Reply> {
    const result = await runReact({
      engine: this.o.engine,
      tokenizer: this.o.tokenizer,
      tools,
      prompt: run.prompt,
      sampling: run.sampling,
      maxSteps: this.o.maxSteps ?? DEFAULT_MAX_STEPS,
      signal: run.signal,
      reusePrefix: true,
      onText: (piece) => {
        run.tick();
        run.onText(piece, 'trace');
      },
    });
    const finish = REACT_FINISH[result.finish];
    return { text: result.answer, finish, tokens: result.completionTokens, promptTokens: result.promptTokens, cachedTokens: result.cachedTokens, steps: result.steps };
  }

  /** The conversation to answer as prompt ids: the system turn, then the latest exchanges that leave max_new tokens of room. */
  private prompt(messages: ChatMessage[]): { ids: Uint32Array; leftOut: number } {
    const conversation = withSystemPrompt(messages, this.system);
    const turns = encodeTurns(this.o.tokenizer, conversation);
    const open = encodeChat(this.o.tokenizer, [], { addGenerationPrompt: true }).ids;
    const head = headLength(conversation);
    const context = this.o.engine.contextLength;
    const budget = context - Math.min(this.settings.maxNew, context - 1) - open.length - totalLength(turns.slice(0, head));
    // Walk back from the newest exchange while the next older one still fits; the newest always goes in.
    const starts = exchangeStarts(conversation, head);
    let from = starts.at(-1)!;
    for (let i = starts.length - 2; i >= 0 && totalLength(turns.slice(starts[i])) <= budget; i--) from = starts[i]!;
    const ids = concat([...turns.slice(0, head), ...turns.slice(from)].map((t) => t.ids).concat(open), Uint32Array);
    if (ids.length >= context) throw new PromptTooLong(`the message makes a prompt of ${ids.length} tokens, and the context holds ${context} (shorten it, or the system prompt)`);
    return { ids, leftOut: from - head };
  }

  /** Runs a /command. */
  command(line: string): ChatOutcome {
    const [, name = '', rest = ''] = /^\/(\S*)\s*([\s\S]*)$/.exec(line.trim())!;
    const argument = rest.trim();
    switch (name) {
      case 'help':
        return { kind: 'notice', text: CHAT_HELP };
      case 'quit':
      case 'exit':
        return { kind: 'quit' };
      case 'reset':
        this.messages = [];
        return { kind: 'notice', text: 'conversation reset' };
      case 'system':
        if (argument === '') return { kind: 'notice', text: this.system === '' ? 'no system prompt' : `system prompt: ${this.system}` };
        this.system = argument === '""' || argument === "''" ? '' : argument;
        return { kind: 'notice', text: this.system === '' ? 'system prompt removed' : `system prompt: ${this.system}` };
      case 'set':
        return this.set(argument);
      case 'save':
        return this.fileCommand('save', argument, (file) => this.save(file));
      case 'load':
        return this.fileCommand('load', argument, (file) => this.load(file));
      default:
        return { kind: 'error', text: `unknown command /${name} (/help lists them)` };
    }
  }

  /** `/set temperature=0.7 top_p=0.9`: every assignment checked before any is made. */
  private set(argument: string): ChatOutcome {
    if (argument === '') return { kind: 'notice', text: formatSettings(this.settings) };
    const changes: [keyof ChatSettings, number][] = [];
    for (const assignment of argument.split(/[\s,]+/)) {
      const [, name = '', value = ''] = /^([^=]*)=(.*)$/.exec(assignment) ?? [];
      const setting = SETTINGS.find((s) => s.name === name.replace(/-/g, '_'));
      if (!setting) return { kind: 'error', text: `/set NAME=VALUE, NAME one of ${SETTINGS.map((s) => s.name).join(', ')}; got ${JSON.stringify(assignment)}` };
      try {
        changes.push([setting.key, setting.check(setting.name)(value.trim() === '' ? NaN : Number(value))]);
      } catch (err) {
        return { kind: 'error', text: errorMessage(err) };
      }
    }
    for (const [key, value] of changes) this.settings[key] = value;
    return { kind: 'notice', text: formatSettings(this.settings) };
  }

  private fileCommand(name: string, file: string, run: (file: string) => string): ChatOutcome {
    if (file === '') return { kind: 'error', text: `/${name} FILE` };
    try {
      return { kind: 'notice', text: run(file) };
    } catch (err) {
      return { kind: 'error', text: `/${name} ${file}: ${errorMessage(err)}` };
    }
  }

  /** The conversation as one JSONL record, the system prompt its first message. */
  save(file: string): string {
    const messages = withSystemPrompt(this.messages, this.system);
    writeFileSync(file, JSON.stringify({ messages }) + '\n');
    return `saved ${messages.length} messages to ${file}`;
  }

  /** Takes the conversation of a `{"messages": [...]}` record (the file's first); its system turn, if any, becomes the system prompt. */
  load(file: string): string {
    const line = readFileSync(file, 'utf8').split('\n').find((l) => l.trim() !== '');
    if (line === undefined) throw new Error('empty file');
    const record: unknown = JSON.parse(line);
    const items = typeof record === 'object' && record !== null && 'messages' in record ? record.messages : undefined;
    if (!Array.isArray(items)) throw new Error('not a {"messages": [...]} record');
    const messages = promptConversation(items);
    if (typeof messages === 'string') throw new Error(messages);
    const hasSystem = headLength(messages) > 0;
    if (hasSystem) this.system = messages[0]!.content;
    this.messages = messages.slice(hasSystem ? 1 : 0);
    return `loaded ${this.messages.length} messages from ${file}${hasSystem ? ' with its system prompt' : ''}`;
  }
}

class PromptTooLong extends Error {}

/** Hears each piece of an answer as it is written. */
export type OnText = (piece: string, part: AnswerPart) => void;

/** What one answer's strategy is given. */
interface AnswerRun {
  prompt: Int32Array;
  sampling: SamplingParams;
  signal: AbortSignal;
  onText: OnText;
  /** Called at each token (or piece of text), for the timings. */
  tick: () => void;
}

const REACT_FINISH: Record<ReactFinish, AnswerFinish> = { answer: 'stop', max_steps: 'max_steps', length: 'length', aborted: 'cancelled' };

/** `temperature 0.7 · top_p 0.8 · top_k 20 · max_new 256 · repetition_penalty 1.05 · seed 0` */
export function formatSettings(settings: ChatSettings): string {
  return SETTINGS.map((s) => `${s.name} ${settings[s.key]}`).join(' · ');
}
