// What the SFT and preference encoders share: the default system prompt, the exchanges that
// truncation drops whole, and the ChatML tokens of each turn. A conversation's encoding is the
// concatenation of its turns' encodings (encodeChat encodes each message on its own), so truncation
// can count and drop turns without encoding twice.
import { encodeChat, type ChatMessage } from '../tokenizer/chatml.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';

/** Qwen's default system prompt, added to a conversation that has none. */
export const DEFAULT_SYSTEM_PROMPT = 'You are a helpful assistant.';

/** The conversation with `systemPrompt` first when it has no system turn ('' adds none). */
export function withSystemPrompt(messages: readonly ChatMessage[], systemPrompt: string): ChatMessage[] {
  return messages[0]?.role === 'system' || systemPrompt === '' ? [...messages] : [{ role: 'system', content: systemPrompt }, ...messages];
}

/** How many turns open the conversation as its system prompt (kept by every truncation). */
export function headLength(messages: readonly ChatMessage[]): number {
  return messages[0]?.role === 'system' ? 1 : 0;
}

/**
 * Where each exchange starts, from `head` on: every user turn opens one (the first exchange also
 * holds any turns before the first user turn), and it runs to the next user turn, so an exchange
 * is a question with everything that answers it (assistant and tool turns).
 */
export function exchangeStarts(messages: readonly ChatMessage[], head: number): number[] {
  const starts: number[] = [];
  for (let i = head; i < messages.length; i++) if (i === head || messages[i]!.role === 'user') starts.push(i);
  return starts;
}

export interface EncodedTurn {
  /** `<|im_start|>role\ncontent<|im_end|>\n` */
  ids: Uint32Array;
  /** 1 on assistant content and its <|im_end|>. */
  assistantMask: Uint8Array;
}

export function encodeTurns(tokenizer: Tokenizer, messages: readonly ChatMessage[]): EncodedTurn[] {
  return messages.map((m) => encodeChat(tokenizer, [m]));
}

export function totalLength(turns: readonly { ids: ArrayLike<number> }[]): number {
  return turns.reduce((sum, t) => sum + t.ids.length, 0);
}

/** The arrays one after another, as one array of the first's type. */
export function concat<T extends Uint32Array | Uint8Array | Int32Array>(parts: readonly T[], into: new (length: number) => T): T {
  const out = new into(parts.reduce((sum, p) => sum + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
