// Coarse comparisons for preference-model pre-training (PMP), built by a rule from chat records:
// for each conversation, its own last answer is chosen and the last answer of another
// conversation, drawn at random, is rejected. The signal is coarse (an answer to the question
// beats an answer to some other question) but it costs nothing and there is as much of it as there
// are chats, which is what the Qwen report's PMP stage wants: plenty of cheap comparisons before
// the few careful ones. Same seed, same pairs.
//
//   node --import tsx examples/alignment/make-pmp-pairs.ts alpaca.jsonl [--pairs N] [--seed 0] > pmp.jsonl
import { parseArgs } from 'node:util';
import { chatMessages } from '../../lib/chat/formats.js';
import type { ChatMessage } from '../../lib/tokenizer/chatml.js';
import { readDocs } from '../../lib/io/read.js';
import { createRandom } from '../../lib/util/random.js';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { pairs: { type: 'string', default: '0' }, seed: { type: 'string', default: '0' } } });
if (positionals.length === 0) throw new Error('usage: make-pmp-pairs.ts CHATS.jsonl... [--pairs N (0: one per chat)] [--seed 0] > pairs.jsonl');

const chats: ChatMessage[][] = [];
for await (const doc of readDocs(positionals)) {
  const messages = chatMessages(doc, 'auto');
  if (typeof messages !== 'string' && messages.at(-1)?.role === 'assistant' && messages.at(-1)!.content.trim() !== '') chats.push(messages);
}
const random = createRandom(Number(values.seed));
const wanted = Number(values.pairs) || chats.length;
for (let i = 0; i < Math.min(wanted, chats.length); i++) {
  const own = chats[i]!;
  // another conversation's answer: any index but i
  const other = chats[(i + 1 + random.int(chats.length - 1)) % chats.length]!;
  const chosen = own.at(-1)!.content, rejected = other.at(-1)!.content;
  if (chosen !== rejected) process.stdout.write(JSON.stringify({ messages: own.slice(0, -1), chosen, rejected }) + '\n');
}
