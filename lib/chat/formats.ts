// Chat and preference records in the formats people publish them in, read into ChatML messages.
// Each reader returns the conversation or a short reason, so a command can send a bad record to
// --rejects with its line number instead of failing the run. Message numbers in reasons count
// from 1, as a person reading the record counts them.
import { quoteInput } from '../errors.js';
import type { Doc } from '../io/types.js';
import { CHAT_ROLES, type ChatMessage, type ChatRole } from '../tokenizer/chatml.js';

export type ChatFormat = 'auto' | 'messages' | 'alpaca' | 'sharegpt' | 'hh';
export const CHAT_FORMATS: readonly ChatFormat[] = ['auto', 'messages', 'alpaca', 'sharegpt', 'hh'];

export interface PreferencePair {
  prompt: ChatMessage[];
  /** The response turn(s) after the shared prompt. */
  chosen: ChatMessage[];
  rejected: ChatMessage[];
}

/** ShareGPT's speaker names (and LLaMA-Factory's), as ChatML roles. */
const SHAREGPT_ROLES: Record<string, ChatRole> = { human: 'user', user: 'user', gpt: 'assistant', assistant: 'assistant', system: 'system', tool: 'tool', observation: 'tool' };

/**
 * Stanford Alpaca's template puts the input after the instruction, separated by a blank line
 * ("### Instruction:\n{instruction}\n\n### Input:\n{input}"); in ChatML the turn itself marks the
 * prompt, so the section headers go and the blank line stays.
 */
export const ALPACA_INPUT_SEPARATOR = '\n\n';

const HH_TURN = /\n\n(Human|Assistant):/g;
const HH_ASSISTANT = '\n\nAssistant:';

type Reader = (record: Doc) => ChatMessage[] | string;

const CHAT_READERS: Record<Exclude<ChatFormat, 'auto'>, Reader> = {
  messages: (record) => (Array.isArray(record.messages) ? roleContentMessages(record.messages) : 'no "messages" array'),
  sharegpt: (record) => shareGptConversation(record),
  alpaca: (record) => alpacaConversation(record),
  hh: (record) => {
    const transcript = isTranscript(record.text) ? record.text : record.chosen;
    return isTranscript(transcript) ? hhTranscript(transcript) : 'no hh-rlhf transcript ("\\n\\nHuman: … \\n\\nAssistant: …") in "text" or "chosen"';
  },
};

/**
 * The conversation of a chat record (auto: detected per record), or the reason it is not one.
 * `emptyAnswer` lets the last turn be an empty assistant turn: nothing to learn from, but a reply
 * a reward model can score (saying nothing can be the better answer).
 */
export function chatMessages(record: Doc, format: ChatFormat, o: { emptyAnswer?: boolean } = {}): ChatMessage[] | string {
  const detected = format === 'auto' ? detectChatFormat(record) : format;
  if (!detected) return 'not a chat record (no "messages", "conversations", "instruction"/"output" or hh-rlhf transcript)';
  const messages = CHAT_READERS[detected](record);
  return typeof messages === 'string' ? messages : (conversationProblem(messages, { answered: true, emptyAnswer: o.emptyAnswer }) ?? messages);
}

/** A conversation to be continued (generate's `messages`): checked as chatMessages checks one, but no answer is needed yet. */
export function promptConversation(items: unknown[]): ChatMessage[] | string {
  const messages = roleContentMessages(items);
  return typeof messages === 'string' ? messages : (conversationProblem(messages, { answered: false }) ?? messages);
}

/** Which chat format a record is in, by its fields; undefined when none fits. */
export function detectChatFormat(record: Doc): Exclude<ChatFormat, 'auto'> | undefined {
  if (Array.isArray(record.messages)) return 'messages';
  if (Array.isArray(record.conversations)) return 'sharegpt';
  if ('instruction' in record && 'output' in record) return 'alpaca';
  if (isTranscript(record.text) || isTranscript(record.chosen)) return 'hh';
  return undefined;
}

/**
 * A preference pair from `{prompt|messages, chosen, rejected}` (chosen/rejected a string, a message
 * or messages; responses that repeat the prompt have it stripped), `{chosen, rejected}` message
 * lists (the prompt is their common start), hh-rlhf `{chosen, rejected}` transcripts (split at the
 * last common "\n\nAssistant:"), or ShareGPT's `{conversations, chosen: {from, value}, rejected}`;
 * or the reason it is none. Empty responses are kept: "say nothing" can be the preferred answer.
 */
export function preferencePair(record: Doc): PreferencePair | string {
  const { chosen, rejected } = record;
  if (chosen === undefined || rejected === undefined) return 'not a preference record (no "chosen" and "rejected")';
  let pair: PreferencePair | string;
  if (Array.isArray(record.conversations)) pair = shareGptPair(record);
  else if ('prompt' in record || 'messages' in record) pair = explicitPair(record);
  else if (typeof chosen === 'string' && typeof rejected === 'string') pair = hhPair(chosen, rejected);
  else if (Array.isArray(chosen) && Array.isArray(rejected)) pair = implicitPair(chosen, rejected);
  else return '"chosen" and "rejected" must both be strings or both message lists';
  return typeof pair === 'string' ? pair : (pairProblem(pair) ?? pair);
}

function roleContentMessages(items: unknown[], what = 'message'): ChatMessage[] | string {
  const messages: ChatMessage[] = [];
  for (const [i, item] of items.entries()) {
    if (!isObject(item)) return `${what} ${i + 1} is not an object`;
    const { role, content } = item;
    if (typeof role !== 'string') return `${what} ${i + 1} has no "role"`;
    if (!(CHAT_ROLES as readonly string[]).includes(role)) return `unknown role ${quoteInput(role)} at ${what} ${i + 1}`;
    if (typeof content !== 'string') return `content of ${what} ${i + 1} is not a string`;
    messages.push({ role: role as ChatRole, content });
  }
  return messages;
}

function shareGptMessages(items: unknown[], what = 'message'): ChatMessage[] | string {
  const messages: ChatMessage[] = [];
  for (const [i, item] of items.entries()) {
    if (!isObject(item)) return `${what} ${i + 1} is not an object`;
    const { from, value } = item;
    if (typeof from !== 'string') return `${what} ${i + 1} has no "from"`;
    const role = SHAREGPT_ROLES[from];
    if (!role) return `unknown role ${quoteInput(from)} at ${what} ${i + 1}`;
    if (typeof value !== 'string') return `value of ${what} ${i + 1} is not a string`;
    messages.push({ role, content: value });
  }
  return messages;
}

/** ShareGPT, with LLaMA-Factory's optional top-level "system". */
function shareGptConversation(record: Doc): ChatMessage[] | string {
  if (!Array.isArray(record.conversations)) return 'no "conversations" array';
  const messages = shareGptMessages(record.conversations);
  return typeof messages === 'string' ? messages : withRecordSystem(record, messages);
}

/** Alpaca, with LLaMA-Factory's optional "system" and "history" ([[instruction, output], …]). */
function alpacaConversation(record: Doc): ChatMessage[] | string {
  const { instruction, input, output, history } = record;
  if (typeof instruction !== 'string') return '"instruction" is not a string';
  if (input !== undefined && input !== null && typeof input !== 'string') return '"input" is not a string';
  if (typeof output !== 'string') return '"output" is not a string';
  const messages: ChatMessage[] = [];
  if (history !== undefined && history !== null) {
    if (!Array.isArray(history)) return '"history" is not a list of [instruction, output] pairs';
    for (const [i, turn] of history.entries()) {
      if (!Array.isArray(turn) || turn.length !== 2 || typeof turn[0] !== 'string' || typeof turn[1] !== 'string') return `"history" item ${i + 1} is not an [instruction, output] pair of strings`;
      messages.push({ role: 'user', content: turn[0] }, { role: 'assistant', content: turn[1] });
    }
  }
  const prompt = [instruction, input].filter(Boolean).join(ALPACA_INPUT_SEPARATOR);
  messages.push({ role: 'user', content: prompt }, { role: 'assistant', content: output });
  return withRecordSystem(record, messages);
}

function withRecordSystem(record: Doc, messages: ChatMessage[]): ChatMessage[] | string {
  const { system } = record;
  if (system === undefined || system === null || system === '') return messages;
  if (typeof system !== 'string') return '"system" is not a string';
  if (messages[0]?.role === 'system') return 'both a "system" field and a system turn';
  return [{ role: 'system', content: system }, ...messages];
}

function isTranscript(value: unknown): value is string {
  return typeof value === 'string' && /^\s*Human:/.test(value) && value.includes(HH_ASSISTANT);
}

/** "\n\nHuman: …\n\nAssistant: …" as messages; the leading "\n\n" may be missing. */
function hhTranscript(text: string): ChatMessage[] | string {
  const normalized = /^\s*(Human|Assistant):/.test(text) ? '\n\n' + text.trimStart() : text;
  const turns = [...normalized.matchAll(HH_TURN)];
  if (turns.length === 0 || normalized.slice(0, turns[0]!.index).trim() !== '') return 'text before the first "Human:" or "Assistant:" turn';
  return turns.map((turn, i) => ({
    role: turn[1] === 'Human' ? 'user' : 'assistant',
    content: normalized.slice(turn.index! + turn[0].length, turns[i + 1]?.index ?? normalized.length).trim(),
  }));
}

/** What makes messages unusable for fine-tuning, or undefined. */
function conversationProblem(messages: ChatMessage[], o: { answered: boolean; emptyAnswer?: boolean } = { answered: true }): string | undefined {
  for (const [i, m] of messages.entries()) {
    if (m.role === 'system' && i > 0) return `system turn at message ${i + 1} (only the first may be one)`;
    const emptyAllowed = o.emptyAnswer && i === messages.length - 1 && m.role === 'assistant';
    if (m.content.trim() === '' && !emptyAllowed) return `empty content at message ${i + 1}`;
  }
  if (messages.length === 0) return 'no messages';
  return !o.answered || messages.some((m) => m.role === 'assistant') ? undefined : 'no assistant turn';
}

function shareGptPair(record: Doc): PreferencePair | string {
  const prompt = shareGptConversation(record);
  if (typeof prompt === 'string') return prompt;
  const chosen = shareGptMessages(asList(record.chosen), 'chosen message');
  if (typeof chosen === 'string') return chosen;
  const rejected = shareGptMessages(asList(record.rejected), 'rejected message');
  return typeof rejected === 'string' ? rejected : { prompt, chosen, rejected };
}

/** `{prompt | messages, chosen, rejected}`: the prompt a string or messages, each response a string or messages. */
function explicitPair(record: Doc): PreferencePair | string {
  const source = 'prompt' in record ? record.prompt : record.messages;
  const prompt = typeof source === 'string' ? [{ role: 'user' as const, content: source }] : Array.isArray(source) ? roleContentMessages(source, 'prompt message') : `"${'prompt' in record ? 'prompt' : 'messages'}" is neither a string nor a message list`;
  if (typeof prompt === 'string') return prompt;
  const chosen = responseMessages(record.chosen, 'chosen');
  if (typeof chosen === 'string') return chosen;
  const rejected = responseMessages(record.rejected, 'rejected');
  if (typeof rejected === 'string') return rejected;
  // Some sets (UltraFeedback as TRL publishes it) repeat the prompt at the start of each response.
  const strip = (response: ChatMessage[]) => (startsWith(response, prompt) ? response.slice(prompt.length) : response);
  return { prompt, chosen: strip(chosen), rejected: strip(rejected) };
}

function responseMessages(value: unknown, what: 'chosen' | 'rejected'): ChatMessage[] | string {
  if (typeof value === 'string') return [{ role: 'assistant', content: value }];
  if (Array.isArray(value) || isObject(value)) return roleContentMessages(asList(value), `${what} message`);
  return `"${what}" is neither a string nor messages`;
}

/** `{chosen, rejected}` as whole conversations: the prompt is the messages they share at the start. */
function implicitPair(chosen: unknown[], rejected: unknown[]): PreferencePair | string {
  const c = roleContentMessages(chosen, 'chosen message');
  if (typeof c === 'string') return c;
  const r = roleContentMessages(rejected, 'rejected message');
  if (typeof r === 'string') return r;
  let shared = 0;
  while (shared < c.length && shared < r.length && sameMessage(c[shared]!, r[shared]!)) shared++;
  return { prompt: c.slice(0, shared), chosen: c.slice(shared), rejected: r.slice(shared) };
}

/** hh-rlhf: both transcripts share everything up to the last common "\n\nAssistant:". */
function hhPair(chosen: string, rejected: string): PreferencePair | string {
  if (!isTranscript(chosen) || !isTranscript(rejected)) return '"chosen" and "rejected" are strings but not hh-rlhf transcripts ("\\n\\nHuman: … \\n\\nAssistant: …")';
  if (chosen === rejected) return 'chosen and rejected are identical';
  const [c, r] = [chosen, rejected].map((t) => (t.startsWith('\n\n') ? t : '\n\n' + t.trimStart())) as [string, string];
  let common = 0;
  while (common < c.length && c.charCodeAt(common) === r.charCodeAt(common)) common++;
  const split = common >= HH_ASSISTANT.length ? c.lastIndexOf(HH_ASSISTANT, common - HH_ASSISTANT.length) : -1;
  if (split < 0) return 'chosen and rejected share no "\\n\\nAssistant:" turn';
  const prompt = hhTranscript(c.slice(0, split));
  if (typeof prompt === 'string') return prompt;
  const chosenTurns = hhTranscript(c.slice(split));
  if (typeof chosenTurns === 'string') return chosenTurns;
  const rejectedTurns = hhTranscript(r.slice(split));
  return typeof rejectedTurns === 'string' ? rejectedTurns : { prompt, chosen: chosenTurns, rejected: rejectedTurns };
}

function pairProblem(pair: PreferencePair): string | undefined {
  if (pair.prompt.length === 0) return 'no prompt';
  const system = pair.prompt.findIndex((m, i) => m.role === 'system' && i > 0);
  if (system > 0) return `system turn at prompt message ${system + 1} (only the first may be one)`;
  for (const side of ['chosen', 'rejected'] as const) {
    const response = pair[side];
    if (response.length === 0) return `no ${side} response`;
    if (response[0]!.role !== 'assistant') return `${side} response starts with a ${response[0]!.role} turn, not an assistant one`;
    if (response.some((m) => m.role === 'system')) return `system turn in the ${side} response`;
  }
  if (pair.chosen.length === pair.rejected.length && startsWith(pair.chosen, pair.rejected)) return 'chosen and rejected are identical';
  return undefined;
}

function startsWith(messages: ChatMessage[], prefix: ChatMessage[]): boolean {
  return prefix.length <= messages.length && prefix.every((m, i) => sameMessage(m, messages[i]!));
}

function sameMessage(a: ChatMessage, b: ChatMessage): boolean {
  return a.role === b.role && a.content === b.content;
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
