// A preference pair as the two token sequences a reward model compares: the same ChatML prompt
// (with the system prompt), then each response, ending on the response's <|im_end|>, the token the
// reward is read at. Fitted to maxLen by the policy of docs/sft.md ("Preference pairs").
import { IM_END, IM_START } from '../tokenizer/special.js';
import type { ChatMessage } from '../tokenizer/chatml.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import type { PreferencePair } from './formats.js';
import { concat, encodeTurns, exchangeStarts, headLength, totalLength, withSystemPrompt, type EncodedTurn } from './turns.js';

export interface EncodedPair {
  chosen: Int32Array;
  rejected: Int32Array;
  /** Tokens of the shared prompt at the start of both (its turns with their newlines; the responses start at their <|im_start|>). */
  promptLen: number;
  /** Set when the pair did not fit in maxLen as it came. */
  truncated?: true;
}

export interface PreferenceEncodeOptions {
  maxLen: number;
  /** Added when the prompt has no system turn; '' adds none. */
  systemPrompt: string;
}

/**
 * The pair's sequences, or why it has none. Too long for `maxLen`: the prompt keeps at least half
 * of maxLen (all of it when shorter) and gives up its earliest exchanges first, then the start of
 * what is left, keeping the system turn and the role header; a response longer than what remains
 * loses its tail but keeps its closing <|im_end|>.
 */
export function encodePreference(tokenizer: Tokenizer, pair: PreferencePair, o: PreferenceEncodeOptions): EncodedPair | { drop: string } {
  if (!Number.isInteger(o.maxLen) || o.maxLen < 4) throw new RangeError(`maxLen must be an integer ≥ 4, got ${o.maxLen}`);
  const imEnd = tokenizer.vocab.specials[IM_END]!;
  const prompt = withSystemPrompt(pair.prompt, o.systemPrompt);
  const turns = encodeTurns(tokenizer, prompt);
  const responses = [pair.chosen, pair.rejected].map((r) => responseIds(tokenizer, r, imEnd)) as [Uint32Array, Uint32Array];
  const longest = Math.max(...responses.map((r) => r.length));
  const promptLength = totalLength(turns);
  const promptBudget = Math.max(o.maxLen - longest, Math.min(promptLength, Math.floor(o.maxLen / 2)));
  const promptIds = fitPrompt(tokenizer, prompt, turns, promptBudget);
  if (typeof promptIds === 'string') return { drop: promptIds };
  const responseBudget = o.maxLen - promptIds.length;
  const [chosen, rejected] = responses.map((r) => (r.length > responseBudget ? concat([r.subarray(0, responseBudget - 1), Uint32Array.of(imEnd)], Uint32Array) : r)) as [Uint32Array, Uint32Array];
  const truncated = promptIds.length < promptLength || longest > responseBudget;
  if (chosen.length === rejected.length && chosen.every((id, i) => id === rejected[i])) return { drop: `chosen and rejected are the same tokens${truncated ? ` once cut to max-len ${o.maxLen}` : ''}` };
  const sequence = (response: Uint32Array) => Int32Array.from(concat([promptIds, response], Uint32Array));
  return { chosen: sequence(chosen), rejected: sequence(rejected), promptLen: promptIds.length, ...(truncated && { truncated: true as const }) };
}

/** The response turns, ending on the last <|im_end|> (without the newline a following turn would need). */
function responseIds(tokenizer: Tokenizer, response: ChatMessage[], imEnd: number): Uint32Array {
  const ids = concat(encodeTurns(tokenizer, response).map((t) => t.ids), Uint32Array);
  return ids.slice(0, ids.lastIndexOf(imEnd) + 1);
}

/** The prompt's ids in at most `budget` tokens, or why it cannot fit. */
function fitPrompt(tokenizer: Tokenizer, prompt: ChatMessage[], turns: EncodedTurn[], budget: number): Uint32Array | string {
  const head = headLength(prompt);
  const starts = exchangeStarts(prompt, head);
  let first = 0;
  let length = totalLength(turns);
  while (length > budget && first < starts.length - 1) {
    length -= totalLength(turns.slice(starts[first], starts[first + 1]));
    first += 1;
  }
  const headIds = concat(turns.slice(0, head).map((t) => t.ids), Uint32Array);
  const from = starts[first] ?? prompt.length;
  const rest = turns.slice(from).map((t) => t.ids);
  if (length <= budget) return concat([headIds, ...rest], Uint32Array);
  if (rest.length === 0) return `system prompt of ${headIds.length} tokens leaves no room in ${budget} tokens`;
  // Cut from the left, keeping each role header and turn end so the prompt stays ChatML: the
  // question loses its start; a system prompt that leaves it no token loses its start too.
  const question = turnParts(tokenizer, prompt[from]!, rest.slice(1));
  const system = head > 0 ? turnParts(tokenizer, prompt[0]!, []) : undefined;
  const room = budget - question.header.length - question.close.length - (system ? system.header.length + system.close.length : 0);
  if (room < 1) return `the prompt's last exchange does not fit in ${budget} tokens, even cut`;
  const systemLength = system?.content.length ?? 0;
  const questionKeep = Math.min(question.content.length, systemLength < room ? room - systemLength : room);
  const systemKeep = Math.min(systemLength, room - questionKeep);
  const systemIds = !system ? [] : systemKeep === systemLength ? [headIds] : [system.header, keepEnd(system.content, systemKeep), system.close];
  return concat([...systemIds, question.header, keepEnd(question.content, questionKeep), question.close], Uint32Array);
}

/** A turn as its role header, its content and its end (with the turns that follow it). */
function turnParts(tokenizer: Tokenizer, message: ChatMessage, later: Uint32Array[]): { header: Uint32Array; content: Uint32Array; close: Uint32Array } {
  const specials = tokenizer.vocab.specials;
  return {
    header: Uint32Array.of(specials[IM_START]!, ...tokenizer.encodeOrdinary(`${message.role}\n`)),
    content: tokenizer.encodeOrdinary(message.content),
    close: concat([Uint32Array.of(specials[IM_END]!), tokenizer.encodeOrdinary('\n'), ...later], Uint32Array),
  };
}

function keepEnd(ids: Uint32Array, count: number): Uint32Array {
  return ids.subarray(ids.length - count);
}
