// The flags of `loom dpo`, declared once (commands/dpo.ts registers them, DpoArgs is inferred from
// them): the fine-tuning flags of sft and rm, plus β and the reference. Light on purpose: no
// trainer, no kernels.
import type { InferredOptionTypes, Options } from 'yargs';
import { DPO_PRESETS } from '../train/dpo-presets.js';
import { FINE_TUNE_FLAGS, LOOP_FLAGS } from './model-flags.js';
import type { GlobalArgs } from './options.js';
import { positiveInteger, positiveNumber } from './validate.js';

export const DPO_FLAGS = {
  data: { alias: 'd', type: 'string', array: true, describe: 'Preference JSONL, the formats loom rm reads: {prompt|messages, chosen, rejected}, hh-rlhf {chosen, rejected}, ShareGPT {conversations, chosen, rejected}' },
  'val-data': { type: 'string', array: true, describe: 'Held-out pairs from other files (default: --val-fraction of --data)' },
  preset: { choices: Object.keys(DPO_PRESETS) as (keyof typeof DPO_PRESETS)[], default: 'qwen' as const, describe: 'Defaults of the run: β 0.1, lr 5e-7 (warmup 10% of the run, then constant), 64 pairs a step, 2048 tokens, one epoch, no dropout (docs/dpo.md); lr, pairs a step and warmup scale to the model and data unless given' },
  beta: { type: 'number', coerce: positiveNumber('--beta'), describe: "β: the implicit rewards are β·log(π/π_ref); a larger β keeps the policy nearer the reference (preset's: 0.1)" },
  ref: { type: 'string', describe: 'The frozen reference checkpoint (default: the --init checkpoint)' },
  batch: { alias: 'b', type: 'number', default: 4, coerce: positiveInteger('--batch'), describe: 'Pairs per micro-batch (per GPU); each pair is two sequences' },
  'batch-pairs': { type: 'number', coerce: positiveInteger('--batch-pairs'), describe: "Pairs per optimizer step across GPUs (preset's: 64, fewer when the data has under 32 steps of them)" },
  ...FINE_TUNE_FLAGS,
  out: { ...LOOP_FLAGS.out, demandOption: false },
} as const satisfies Record<string, Options>;

export type DpoArgs = GlobalArgs & InferredOptionTypes<typeof DPO_FLAGS>;
