// loom's side of the DPO agreement check against PyTorch (scripts/dpo-reference.py is the other;
// run both on the GPU machine, where PyTorch is).
//
//   node --import tsx bench/dpo-agreement.ts pairs CKPT PREFS.jsonl [-n 8] [--max-len 256] > pairs.jsonl
//     fixed pairs of token ids from preference records (any format loom dpo reads), encoded with
//     CKPT's tokenizer as loom dpo encodes them: {"chosen", "rejected", "prompt_len"} a line
//   node --import tsx bench/dpo-agreement.ts run POLICY REF pairs.jsonl [--beta 0.1] [--device cpu|cuda] [--compare torch.json]
//     one JSON line with the figures dpo-reference.py prints, computed by loom's DPO objective in
//     fp32 (the reference's log-probabilities as loom dpo computes them, the policy's loss and
//     gradient through the LM head's per-token weights); with --compare, the largest differences
//     from PyTorch's and whether all are within 1e-4.
import { readFileSync } from 'node:fs';
import { openBackend } from '../kernels/index.js';
import type { EncodedPair } from '../lib/chat/preference.js';
import { loadWeights, readCheckpoint } from '../lib/model/checkpoint.js';
import { loadModel } from '../lib/model/load.js';
import { parameterSpecs } from '../lib/model/params.js';
import { Trunk } from '../lib/model/trunk.js';
import { Weights } from '../lib/model/weights.js';
import { dpoObjective, referenceLogprobs } from '../lib/train/dpo.js';
import { readPreferencePairs } from '../lib/train/preference-data.js';
import { Trainable } from '../lib/train/trainable.js';

const argv = process.argv.slice(2);
const flag = (name: string, fallback: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1]! : fallback);
const log = (line: string) => process.stderr.write(line + '\n');

interface Figures {
  loss: number;
  grad_norm: number;
  logprobs: { policy_chosen: number; policy_rejected: number; ref_chosen: number; ref_rejected: number }[];
  grads: Record<string, { norm: number; entries: Record<string, number> }>;
}

if (argv[0] === 'pairs') {
  const [, ckpt, prefs] = argv;
  const data = await readPreferencePairs('dpo', readCheckpoint(ckpt!), { data: [prefs!], onError: 'skip', log }, { maxLen: Number(flag('--max-len', '256')), systemPrompt: 'You are a helpful assistant.', valFraction: 0 }, 0);
  for (const p of data.train.slice(0, Number(flag('-n', '8')))) process.stdout.write(JSON.stringify({ chosen: [...p.chosen], rejected: [...p.rejected], prompt_len: p.promptLen }) + '\n');
} else if (argv[0] === 'run') {
  const [, policyDir, refDir, pairsFile] = argv;
  const beta = Number(flag('--beta', '0.1'));
  const device = flag('--device', 'cpu');
  const pairs: EncodedPair[] = readFileSync(pairsFile!, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as { chosen: number[]; rejected: number[]; prompt_len: number })
    .map((p) => ({ chosen: Int32Array.from(p.chosen), rejected: Int32Array.from(p.rejected), promptLen: p.prompt_len }));
  const capacity = 2 * Math.max(...pairs.map((p) => Math.max(p.chosen.length, p.rejected.length)));

  // one pair a pass: no padding, as the PyTorch side runs them
  const ref = loadModel(refDir!, { device, capacity, dtype: 'f32' });
  const scored = referenceLogprobs(ref.trunk, pairs, 1, 0);
  ref.weights.free();

  const k = openBackend(device);
  const from = readCheckpoint(policyDir!);
  const weights = new Weights(k, parameterSpecs(from.config, 'lm'), 'f32');
  const params = new Trainable(k, weights);
  loadWeights(from.dir, params);
  const trunk = new Trunk(k, from.config, weights, capacity);
  const policy = referenceLogprobs(trunk, pairs, 1, 0);
  const objective = dpoObjective(trunk, { beta, dropout: 0, padId: 0 });
  const lossSum = k.alloc([1]);
  k.zero(lossSum);
  params.zeroGrads();
  for (const p of scored) objective.run({ pairs: [p] }, { grads: params.grad, gradScale: 1 / pairs.length, dropoutSeed: 0, lossSum });
  const loss = (k.download(lossSum) as Float32Array)[0]! / pairs.length;

  let sumsq = 0;
  for (const g of params.groups) for (const x of k.download(g.grad) as Float32Array) sumsq += x * x;
  const L = from.config.layers;
  const names = ['model.embed_tokens.weight', 'model.layers.0.self_attn.q_proj.weight', 'model.layers.0.self_attn.q_proj.bias', `model.layers.${L - 1}.mlp.down_proj.weight`, 'model.norm.weight', ...(from.config.tieEmbeddings ? [] : ['lm_head.weight'])];
  const grads: Figures['grads'] = {};
  for (const name of names) {
    const g = k.download(params.grad(name)!) as Float32Array;
    const n = g.length;
    const at = [...new Set([0, n - 1, ...[1, 2, 3, 4, 5, 6].map((i) => Math.floor((i * n) / 7))])].sort((a, b) => a - b);
    grads[name] = { norm: Math.sqrt(g.reduce((a, x) => a + x * x, 0)), entries: Object.fromEntries(at.map((i) => [String(i), g[i]!])) };
  }
  const figures: Figures = {
    loss,
    grad_norm: Math.sqrt(sumsq),
    logprobs: scored.map((p, i) => ({ policy_chosen: policy[i]!.refChosen, policy_rejected: policy[i]!.refRejected, ref_chosen: p.refChosen, ref_rejected: p.refRejected })),
    grads,
  };
  const compare = argv.includes('--compare') ? agreement(figures, JSON.parse(readFileSync(flag('--compare', ''), 'utf8')) as Figures) : {};
  console.log(JSON.stringify({ bench: 'dpo-agreement', side: 'loom', device: `${k.device} (${k.name})`, beta, pairs: pairs.length, ...figures, ...compare }));
} else {
  log('usage: bench/dpo-agreement.ts pairs CKPT PREFS.jsonl [-n 8] [--max-len 256] | run POLICY REF PAIRS.jsonl [--beta 0.1] [--device cpu|cuda] [--compare torch.json]');
  process.exitCode = 2;
}

/** The largest absolute differences between loom's figures and PyTorch's, by kind. */
function agreement(loom: Figures, torch: Figures) {
  const worst = { loss: Math.abs(loom.loss - torch.loss), logprob: 0, grad_norm: Math.abs(loom.grad_norm - torch.grad_norm), grad_entry: 0, param_grad_norm: 0 };
  loom.logprobs.forEach((row, i) => {
    for (const [key, x] of Object.entries(row)) worst.logprob = Math.max(worst.logprob, Math.abs(x - torch.logprobs[i]![key as keyof typeof row]));
  });
  for (const [name, g] of Object.entries(loom.grads)) {
    const t = torch.grads[name];
    if (!t) continue;
    worst.param_grad_norm = Math.max(worst.param_grad_norm, Math.abs(g.norm - t.norm));
    for (const [i, x] of Object.entries(g.entries)) worst.grad_entry = Math.max(worst.grad_entry, Math.abs(x - t.entries[i]!));
  }
  return { max_abs_diff: worst, within_1e4: worst.loss <= 1e-4 && worst.grad_entry <= 1e-4 && worst.param_grad_norm <= 1e-4 };
}
