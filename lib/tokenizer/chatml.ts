// ChatML, Qwen's chat format: <|im_start|>role\ncontent<|im_end|>\n per message. Message text is
// encoded as ordinary text, so `<|im_start|>` typed inside a message stays plain text and can
// never open a turn (no ChatML injection); only this module places the real special tokens.
import { DataError } from '../errors.js';
import { IM_END, IM_START } from './special.js';
import type { Tokenizer } from './tokenizer.js';

export const CHAT_ROLES = ['system', 'user', 'assistant', 'tool'] as const;
export type ChatRole = (typeof CHAT_ROLES)[number];

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

export interface EncodedChat {
  ids: Uint32Array;
  /** 1 where the model should learn to produce the token: assistant content and its <|im_end|>. */
  assistantMask: Uint8Array;
}

/** The conversation as text, as the Hugging Face chat template renders it. */
export function renderChat(messages: readonly ChatMessage[], opts: { addGenerationPrompt?: boolean } = {}): string {
  let text = '';
  for (const m of messages) text += `${IM_START}${m.role}\n${m.content}${IM_END}\n`;
  return opts.addGenerationPrompt ? text + `${IM_START}assistant\n` : text;
}

export function encodeChat(tokenizer: Tokenizer, messages: readonly ChatMessage[], opts: { addGenerationPrompt?: boolean } = {}): EncodedChat {
  const imStart = tokenizer.vocab.specials[IM_START];
  const imEnd = tokenizer.vocab.specials[IM_END];
  if (imStart === undefined || imEnd === undefined) throw new DataError(`vocabulary ${tokenizer.vocab.name} has no ${IM_START}/${IM_END} tokens`);
  const ids: number[] = [];
  const mask: number[] = [];
  const newline = tokenizer.encodeOrdinary('\n');
  messages.forEach((m, i) => {
    if (!CHAT_ROLES.includes(m.role)) throw new DataError(`message ${i}: unknown role ${JSON.stringify(m.role)} (expected ${CHAT_ROLES.join(', ')})`);
    if (typeof m.content !== 'string') throw new DataError(`message ${i}: content must be a string`);
    const learn = m.role === 'assistant' ? 1 : 0;
    ids.push(imStart);
    mask.push(0);
    // One segment, as a tokenizer sees the text between two special tokens.
    const header = `${m.role}\n`;
    const body = tokenizer.encodeOrdinary(header + m.content);
    const headerBytes = Buffer.byteLength(header);
    let bytes = 0;
    for (const id of body) {
      ids.push(id);
      bytes += tokenizer.decodeBytes([id]).length;
      mask.push(learn && bytes > headerBytes ? 1 : 0);
    }
    ids.push(imEnd, ...newline);
    mask.push(learn, ...newline.map(() => 0));
  });
  if (opts.addGenerationPrompt) {
    ids.push(imStart, ...tokenizer.encodeOrdinary('assistant\n'));
    while (mask.length < ids.length) mask.push(0);
  }
  return { ids: Uint32Array.from(ids), assistantMask: Uint8Array.from(mask) };
}
