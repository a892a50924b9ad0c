// A conversation as one SFT example: ChatML token ids and the tokens that carry loss, fitted to
// --max-len by the truncation policy of docs/sft.md ("Truncation").
import { IM_END, IM_START } from '../tokenizer/special.js';
import type { ChatMessage } from '../tokenizer/chatml.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import { concat, encodeTurns, exchangeStarts, headLength, totalLength, withSystemPrompt, type EncodedTurn } from './turns.js';

/**
 * Which tokens carry loss (docs/sft.md, "Which tokens carry loss"):
 * - `assistant`: assistant content and the <|im_end|> that closes it;
 * - `qwen`: as QwenLM/Qwen finetune.py labels them: that, plus every turn's <|im_start|>,
 *   <|im_end|> and the newline after it (the role names, the newline after them and the
 *   system/user/tool content stay unlearned).
 */
export type LossPolicy = 'assistant' | 'qwen';
export const LOSS_POLICIES: readonly LossPolicy[] = ['assistant', 'qwen'];

export interface SftExample {
  ids: Int32Array;
  /** 1 where token t is learned (predicted from t-1); always 0 at t = 0. */
  lossMask: Uint8Array;
  /** Set when the conversation did not fit: earlier exchanges dropped, or the last answer's tail cut. */
  truncated?: 'turns' | 'tail';
}

export interface SftEncodeOptions {
  maxLen: number;
  loss: LossPolicy;
  /** Added when the conversation has no system turn (DEFAULT_SYSTEM_PROMPT usually); '' adds none. */
  systemPrompt: string;
}

interface Turn extends EncodedTurn {
  lossMask: Uint8Array;
}

/**
 * The example for a conversation, or why it has none. Turns after the last assistant turn are left
 * out (nothing in them is learned). Too long for `maxLen`: whole exchanges go from the start (the
 * system turn stays), then the last assistant turn loses its tail; when not even the prompt of the
 * last answer and one token of it fit, the conversation is dropped.
 */
export function encodeSftExample(tokenizer: Tokenizer, messages: ChatMessage[], o: SftEncodeOptions): SftExample | { drop: string } {
  if (!Number.isInteger(o.maxLen) || o.maxLen < 2) throw new RangeError(`maxLen must be an integer ≥ 2, got ${o.maxLen}`);
  const lastAssistant = messages.findLastIndex((m) => m.role === 'assistant');
  if (lastAssistant < 0) return { drop: 'no assistant turn' };
  const conversation = withSystemPrompt(messages.slice(0, lastAssistant + 1), o.systemPrompt);
  const turns = encodeTurns(tokenizer, conversation).map((t) => ({ ...t, lossMask: turnLossMask(tokenizer, t, o.loss) }));
  const head = headLength(conversation);
  const starts = exchangeStarts(conversation, head);
  let first = 0;
  let length = totalLength(turns);
  while (length > o.maxLen && first < starts.length - 1) {
    length -= totalLength(turns.slice(starts[first], starts[first + 1]));
    first += 1;
  }
  const kept: Turn[] = [...turns.slice(0, head), ...turns.slice(starts[first])];
  const ids = Int32Array.from(concat(kept.map((t) => t.ids), Uint32Array));
  const lossMask = concat(kept.map((t) => t.lossMask), Uint8Array);
  lossMask[0] = 0; // nothing predicts the first token
  let example: SftExample = { ids, lossMask, ...(first > 0 && { truncated: 'turns' as const }) };
  if (ids.length > o.maxLen) {
    const last = kept.at(-1)!;
    const answerStart = ids.length - last.ids.length + last.assistantMask.indexOf(1);
    if (answerStart >= o.maxLen) return { drop: `prompt of ${answerStart} tokens leaves no room for the answer in max-len ${o.maxLen}` };
    example = { ids: ids.slice(0, o.maxLen), lossMask: lossMask.slice(0, o.maxLen), truncated: 'tail' };
  }
  return example.lossMask.includes(1) ? example : { drop: 'no token carries loss' };
}

/** The turn's loss mask under `policy` (a turn's only <|im_end|> is its structural one: text never encodes to it). */
function turnLossMask(tokenizer: Tokenizer, turn: EncodedTurn, policy: LossPolicy): Uint8Array {
  if (policy === 'assistant') return turn.assistantMask;
  const mask = Uint8Array.from(turn.assistantMask);
  const imStart = tokenizer.vocab.specials[IM_START];
  const imEnd = turn.ids.lastIndexOf(tokenizer.vocab.specials[IM_END]!);
  if (turn.ids[0] === imStart) mask[0] = 1;
  mask.fill(1, imEnd);
  return mask;
}
