// `loom sft` glue: its flags (declared once; a preset gives the defaults of the run's settings),
// the tokenizer files of the checkpoint, and the closing summary.
import type { InferredOptionTypes, Options } from 'yargs';
import { CHAT_FORMATS } from '../chat/formats.js';
import { SFT_PRESETS, sft, type SftPreset } from '../train/sft.js';
import type { GlobalArgs } from './options.js';
import { FINE_TUNE_FLAGS, fineTuneRun, fineTuneSettings, runTraining } from './training.js';
import { positiveInteger } from './validate.js';

export const SFT_FLAGS = {
  data: { alias: 'd', type: 'string', array: true, describe: 'Chat JSONL: {"messages"}, alpaca, ShareGPT {"conversations"} or hh-rlhf transcripts (files, globs, -)' },
  'val-data': { type: 'string', array: true, describe: 'Held-out chats from other files (default: --val-fraction of --data)' },
  preset: { choices: Object.keys(SFT_PRESETS) as SftPreset[], default: 'qwen' as SftPreset, describe: "Defaults of the run: qwen (the Qwen report's recipe: 2048 tokens, 128 rows a step, 4000 steps, warmup 1430 to lr 2e-6, dropout 0.1) or math (1024 tokens)" },
  format: { choices: CHAT_FORMATS, default: 'auto' as const, describe: 'Record format (auto: detected per record)' },
  loss: { choices: ['assistant', 'qwen'] as const, default: 'assistant' as const, describe: "Tokens that carry loss: assistant replies and their <|im_end|>, or also the other turns' role tokens as Qwen's script does (docs/sft.md)" },
  pack: { type: 'boolean', default: true, describe: 'Pack short conversations into each row (attention stays inside each); --no-pack pads one per row' },
  'sample-prompt': { type: 'string', array: true, describe: 'A prompt the model answers (greedy, 48 tokens) at each evaluation, in the metrics and the log (repeatable)' },
  batch: { alias: 'b', type: 'number', default: 4, coerce: positiveInteger('--batch'), describe: 'Rows per micro-batch (per GPU)' },
  'batch-rows': { type: 'number', coerce: positiveInteger('--batch-rows'), describe: 'Rows per optimizer step across GPUs; accumulation makes up the rest (preset: 128)' },
  ...FINE_TUNE_FLAGS,
} as const satisfies Record<string, Options>;

export type SftArgs = GlobalArgs & InferredOptionTypes<typeof SFT_FLAGS>;

export async function runSft(argv: SftArgs, run: Record<string, unknown>): Promise<void> {
  const preset = SFT_PRESETS[argv.preset];
  await runTraining(
    'sft',
    argv,
    (output, rejects) =>
      sft({
        ...fineTuneRun(argv, output, rejects, run),
        samplePrompts: argv['sample-prompt'],
        settings: {
          ...fineTuneSettings(argv, preset),
          batch: argv.batch,
          batchRows: argv['batch-rows'] ?? preset.batchRows,
          loss: argv.loss,
          pack: argv.pack,
          format: argv.format,
          systemPrompt: argv['system-prompt'],
          valFraction: argv['val-fraction'],
        },
        steps: argv.steps ?? (argv.epochs === undefined && !argv.resume ? preset.steps : undefined),
      }),
    (r) => {
      const val = r.valLoss !== undefined ? `, val loss ${r.valLoss.toFixed(4)}` : '';
      return `step ${r.steps}, loss ${r.lastLoss.toFixed(4)}${val}, ${Math.round(r.tokensPerSecond)} tokens/s on ${r.device}; ${r.examples.train} conversations in ${r.examples.rows} rows, ${r.examples.dropped} dropped; checkpoint ${argv.out}`;
    },
  );
}
