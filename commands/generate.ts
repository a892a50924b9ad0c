import type { Argv, CommandModule } from 'yargs';
import { DEFAULT_SYSTEM_PROMPT } from '../lib/chat/turns.js';
import type { GenerateArgs } from '../lib/cli/generate.js';
import { LOOP_FLAGS } from '../lib/cli/model-flags.js';
import { SAMPLING_FLAGS } from '../lib/cli/sampling-flags.js';
import { withOutputOptions } from '../lib/cli/options.js';
import { positiveInteger, validator } from '../lib/cli/validate.js';
import { INPUT_FORMATS } from '../lib/infer/prompt-input.js';
import { LONG_CONTEXT_FLAGS } from './eval.js';
import { TOOL_FLAGS } from '../lib/infer/tools/flags.js';

export const generateCommand: CommandModule<object, GenerateArgs> = {
  command: 'generate <checkpoint> [inputs..]',
  describe: 'Continue prompts with a language model: a prompt argument or text on stdin streamed as text, JSONL records ("prompt" or "messages") out as records with "completion"',
  builder: (yargs: Argv) =>
    withOutputOptions(yargs.positional('checkpoint', { type: 'string', demandOption: true, describe: 'A language model checkpoint (loom pretrain/sft --out, or a Hugging Face Qwen2 directory)' }))
      .positional('inputs', { type: 'string', array: true, default: [] as string[], describe: 'Prompts, or JSONL/.txt files, globs, directories, - for stdin (docs/generate.md says which is which)' })
      .option('max-new-tokens', { type: 'number', default: 256, coerce: positiveInteger('--max-new-tokens'), describe: 'Most new tokens a sample gets' })
      .option('stop', { type: 'string', array: true, coerce: nonEmptyStrings, describe: 'A string that ends a sample, cut from the completion (repeatable)' })
      .option('stop-token', { type: 'string', array: true, describe: "A token id or special token that ends a sample (repeatable; default: the checkpoint's end of sequence, <|im_end|> and <|endoftext|>)" })
      .option('n', { type: 'number', default: 1, coerce: positiveInteger('-n'), describe: 'Samples per prompt (JSONL: one record each, with "sample")' })
      .options(SAMPLING_FLAGS)
      .option('logprobs', { type: 'boolean', default: false, describe: 'Add "logprobs": log p of each new token under the model (before temperature and truncation)' })
      .option('json', { type: 'boolean', describe: 'Write JSONL records (default for JSONL input; --no-json: plain text)' })
      .option('system', { type: 'string', default: DEFAULT_SYSTEM_PROMPT, describe: "System prompt of conversations that have none ('' adds none)" })
      .option('chat', { type: 'boolean', default: false, describe: 'A text prompt is a user turn, rendered in ChatML like "messages" (default: raw text)' })
      .option('truncate', { choices: ['none', 'left'] as const, default: 'none' as const, describe: 'none: a prompt with no room left in the context is a bad record (see --on-error); left: keep its last max-len − max-new-tokens tokens' })
      .option('input-format', { choices: INPUT_FORMATS, default: 'auto' as const, describe: 'auto: stdin starting with { and files other than .txt are JSONL, the rest text (one prompt each)' })
      .option('max-batch', { alias: 'b', type: 'number', default: 32, coerce: positiveInteger('--max-batch'), describe: 'Sequences decoded together' })
      .option('batch-invariant', { type: 'boolean', default: false, describe: 'On a GPU, a sample does not depend on --max-batch or the other prompts, to the bit (each prompt prefilled alone; slower on many short prompts)' })
      .option('max-len', { type: 'number', coerce: positiveInteger('--max-len'), describe: "Context: most tokens of prompt and sample (default: the checkpoint's max_position_embeddings)" })
      .option('device', LOOP_FLAGS.device)
      .options(LONG_CONTEXT_FLAGS)
      .options(TOOL_FLAGS)
      .example('$0 generate ckpt/base "The history of Rome"', 'a continuation of raw text, streamed')
      .example('$0 generate ckpt/sft --chat -t 0 "What is 2 plus 3?"', 'a greedy answer in a chat turn')
      .example('$0 generate ckpt/sft questions.jsonl -n 4 --seed 1 > samples.jsonl', 'four samples of each record, one record each, the same for the same --seed')
      .example('$0 generate ckpt/sft --tools python,calculator -t 0 "What is the 20th Fibonacci number?"', 'ReAct tool use: the answer, and with --json the trace of tool calls (docs/tools.md)')
      .example('$0 generate ckpt/base long-prompts.jsonl --max-len 8192 --no-logn', 'beyond the trained context: dynamic NTK and windows, without LogN')
      .example("$0 generate ckpt/sft prompts.jsonl --logprobs --stop $'\\n\\n' --rejects long.jsonl --on-error skip", 'log-probabilities; too long prompts to long.jsonl') as unknown as Argv<GenerateArgs>,
  handler: async (argv) => {
    const { runGenerate } = await import('../lib/cli/generate.js');
    await runGenerate(argv);
  },
};

function nonEmptyStrings(values: string[]): string[] {
  return values.map((v) => validator<string>('--stop', 'a non-empty string', (s) => s !== '')(String(v)));
}
