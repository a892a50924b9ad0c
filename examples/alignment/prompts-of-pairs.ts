// The prompts of preference pairs, as chat records for `loom generate --chat`: each pair's shared
// conversation up to the answer, `{"messages": [...]}` a line, in file order. Records that are no
// pair are refused with their file:line, as `loom rm` refuses them.
//
//   node --import tsx examples/alignment/prompts-of-pairs.ts pairs.jsonl [-n N] > prompts.jsonl
import { parseArgs } from 'node:util';
import { preferencePair } from '../../lib/chat/formats.js';
import { locationOf } from '../../lib/io/location.js';
import { readDocs } from '../../lib/io/read.js';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { n: { type: 'string', short: 'n', default: '0' } } });
if (positionals.length === 0) throw new Error('usage: prompts-of-pairs.ts PAIRS.jsonl... [-n N (0: all)] > prompts.jsonl');

const wanted = Number(values.n) || Infinity;
let written = 0;
for await (const doc of readDocs(positionals)) {
  if (written === wanted) break;
  const pair = preferencePair(doc);
  if (typeof pair === 'string') {
    const at = locationOf(doc);
    throw new Error(`${at ? `${at.file}:${at.line}` : 'input'}: ${pair}`);
  }
  process.stdout.write(JSON.stringify({ messages: pair.prompt }) + '\n');
  written++;
}
