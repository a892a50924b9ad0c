// loom against transformers on one Qwen2 checkpoint (scripts/hf-qwen2-reference.py writes the
// transformers side): fp32 logits at the first and last positions, and greedy continuations.
//
//   node --import tsx bench/hf-equivalence.ts CKPT PROMPTS.json LOGITS.json GREEDY.json [--device cpu]
//     one JSON line: the largest |logit difference|, and how many greedy continuations are
//     identical token for token.
import { readFileSync } from 'node:fs';
import { createEngine } from '../lib/infer/engine.js';
import { DEFAULT_SAMPLING } from '../lib/infer/types.js';
import { logitsAt } from '../lib/model/lm-head.js';
import { loadModel } from '../lib/model/load.js';

const [dir, , logitsFile, greedyFile] = process.argv.slice(2);
const device = process.argv.includes('--device') ? process.argv[process.argv.indexOf('--device') + 1]! : 'cpu';
const reference = JSON.parse(readFileSync(logitsFile!, 'utf8')) as { prompts: { ids: number[]; first: number[]; last: number[] }[] };
const greedy = JSON.parse(readFileSync(greedyFile!, 'utf8')) as { new_tokens: number; prompts: { ids: number[]; continuation: number[] }[] };
const longest = Math.max(...greedy.prompts.map((p) => p.ids.length)) + greedy.new_tokens + 1;
const model = loadModel(dir!, { device, capacity: Math.max(longest, ...reference.prompts.map((p) => p.ids.length)), dtype: 'f32' });
const V = model.checkpoint.config.vocabSize;
let maxDiff = 0, maxLogit = 0;
for (const p of reference.prompts) {
  const T = p.ids.length;
  const logits = logitsAt(model.trunk, model.trunk.forward({ ids: Int32Array.from(p.ids), rows: 1, seqLen: T }), Int32Array.of(0, T - 1));
  for (const [row, want] of [[0, p.first], [1, p.last]] as const)
    want.forEach((x, i) => {
      maxDiff = Math.max(maxDiff, Math.abs(logits[row * V + i]! - x));
      maxLogit = Math.max(maxLogit, Math.abs(x));
    });
}
const engine = createEngine(model, { maxBatch: greedy.prompts.length, contextLength: longest });
const outs = await Promise.all(greedy.prompts.map((p) => engine.submit({ prompt: Int32Array.from(p.ids), params: { ...DEFAULT_SAMPLING, temperature: 0, maxNew: greedy.new_tokens } })));
engine.close();
const identical = outs.filter((o, i) => o.tokens.join() === greedy.prompts[i]!.continuation.join()).length;
const firstDivergence = outs.map((o, i) => o.tokens.findIndex((t, j) => t !== greedy.prompts[i]!.continuation[j]));
console.log(JSON.stringify({ bench: 'hf-equivalence', checkpoint: dir, device, max_abs_logit_diff: maxDiff, max_abs_logit: maxLogit, greedy_identical: identical, prompts: outs.length, new_tokens: greedy.new_tokens, first_divergence: firstDivergence }));
