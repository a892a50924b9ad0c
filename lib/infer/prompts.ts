// The prompt of a generate record, as token ids: `messages` (or a `prompt` that is a message list,
// TRL's conversational form) rendered with ChatML and an open assistant turn, with the default
// system prompt when the conversation has none; a `prompt` string as raw text, no template (or as
// one user turn with `chat`). Text is encoded as ordinary text, so `<|im_end|>` typed in a prompt
// stays those characters and never becomes the special token.
import { chatMessages } from '../chat/formats.js';
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
  const messages = promptMessages(conversation);
  return typeof messages === 'string' ? messages : encodeConversation(messages, tokenizer, o);
}

function encodeConversation(messages: ChatMessage[], tokenizer: Tokenizer, o: PromptOptions): Uint32Array {
  return encodeChat(tokenizer, withSystemPrompt(messages, o.systemPrompt), { addGenerationPrompt: true }).ids;
}

// chatMessages checks roles, contents and where a system turn may stand, and wants an assistant
// turn, which a prompt has no need of: one is appended for the check and taken off again.
const ANSWER_FOR_CHECK: ChatMessage = { role: 'assistant', content: 'answer' };

function promptMessages(items: unknown[]): ChatMessage[] | string {
  const messages = chatMessages({ messages: [...items, ANSWER_FOR_CHECK] }, 'messages');
  return typeof messages === 'string' ? messages : messages.slice(0, -1);
}
