// The prompt of a generate record, as token ids: `messages` (or a `prompt` that is a message list,
// TRL's conversational form) rendered with ChatML and an open assistant turn, with the default
// system prompt when the conversation has none; a `prompt` string as raw text, no template (or as
// one user turn with `chat`). Text is encoded as ordinary text, so `<|im_end|>` typed in a prompt
// stays those characters and never becomes the special token.
import { promptConversation } from '../chat/formats.js';
import { withSystemPrompt } from '../chat/turns.js';
import type { Doc } from '../io/types.js';
import { encodeChat, type ChatMessage } from '../tokenizer/chatml.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';

export interface PromptOptions {
  /** Added as the first turn of a conversation that has no system turn ('' adds none). */
  systemPrompt: string;
  /** A `prompt` string is one user turn of a conversation, rendered with ChatML, instead of raw text. */
  chat: boolean;
}

/** The prompt's token ids, or the reason the record has none. */
export function encodePrompt(doc: Doc, tokenizer: Tokenizer, o: PromptOptions): Uint32Array | string {
  if (!('messages' in doc) && typeof doc.prompt === 'string') {
    return o.chat ? encodeConversation([{ role: 'user', content: doc.prompt }], tokenizer, o) : tokenizer.encodeOrdinary(doc.prompt);
  }
  const conversation = 'messages' in doc ? doc.messages : doc.prompt;
  if (!Array.isArray(conversation)) {
    if ('messages' in doc) return '"messages" is not an array';
    return 'prompt' in doc ? '"prompt" is neither text nor a message list' : 'no "prompt" or "messages"';
  }
  if (conversation.length === 0) return 'no messages';
  const messages = promptConversation(conversation);
  return typeof messages === 'string' ? messages : encodeConversation(messages, tokenizer, o);
}

function encodeConversation(messages: ChatMessage[], tokenizer: Tokenizer, o: PromptOptions): Uint32Array {
  return encodeChat(tokenizer, withSystemPrompt(messages, o.systemPrompt), { addGenerationPrompt: true }).ids;
}

