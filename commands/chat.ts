import type { Argv, CommandModule } from 'yargs';
import { DEFAULT_SYSTEM_PROMPT } from '../lib/chat/turns.js';
import type { ChatArgs } from '../lib/cli/chat.js';
import { LOOP_FLAGS } from '../lib/cli/model-flags.js';
import { nonNegativeInteger, nonNegativeNumber, positiveInteger, positiveNumber, validator } from '../lib/cli/validate.js';

const RECOMMENDED = "(default: the checkpoint's generation_config.json";

export const chatCommand: CommandModule<object, ChatArgs> = {
  command: 'chat <checkpoint>',
  describe: 'Talk with a chat model in the terminal (streamed answers, history, /commands); with stdin or stdout not a terminal, each input line is a user turn and each answer a line group on stdout',
  builder: (yargs: Argv) =>
    yargs
      .positional('checkpoint', { type: 'string', demandOption: true, describe: 'A chat model checkpoint (loom sft/ppo --out, or a Hugging Face Qwen2 directory)' })
      .option('system', { type: 'string', default: DEFAULT_SYSTEM_PROMPT, describe: "The system prompt ('' for none; /system changes it)" })
      .option('temperature', { alias: 't', type: 'number', coerce: nonNegativeNumber('--temperature'), describe: `Softmax temperature; 0 is greedy ${RECOMMENDED}, else 1)` })
      .option('top-p', { type: 'number', coerce: validator<number>('--top-p', 'a number above 0 up to 1', (v) => v > 0 && v <= 1), describe: `Sample from the smallest set of most likely tokens whose probability reaches p ${RECOMMENDED}, else 1)` })
      .option('top-k', { type: 'number', coerce: nonNegativeInteger('--top-k'), describe: `Sample from the k most likely tokens; 0: all ${RECOMMENDED}, else 0)` })
      .option('repetition-penalty', { type: 'number', coerce: positiveNumber('--repetition-penalty'), describe: `Hugging Face's repetition penalty; 1: none ${RECOMMENDED}, else 1)` })
      .option('max-new', { alias: 'max-new-tokens', type: 'number', default: 512, coerce: positiveInteger('--max-new'), describe: 'Most new tokens an answer gets' })
      .option('context', { type: 'number', coerce: positiveInteger('--context'), describe: "Most tokens of conversation and answer; older exchanges are left out of the prompt beyond it (default: the checkpoint's max_position_embeddings)" })
      .option('device', LOOP_FLAGS.device)
      .option('tools', { type: 'string', coerce: toolNames, describe: 'Built-in tools the model may call, by ReAct prompting: python, calculator (comma-separated)' })
      .option('tool', { type: 'string', array: true, describe: 'A module whose default export is a Tool or an array of them (repeatable; docs/chat.md#tools)' })
      .option('max-steps', { type: 'number', default: 8, coerce: positiveInteger('--max-steps'), describe: 'Most tool calls in one answer' })
      .example('$0 chat ckpt/chat', 'talk in the terminal; /help lists the commands')
      .example('$0 chat ckpt/chat -t 0 --system "You answer in one sentence."', 'greedy answers under another system prompt')
      .example('$0 chat ckpt/chat --tools python,calculator', 'the model may run Python and do arithmetic before it answers')
      .example("printf 'hi\\nwhat is 2+2?\\n' | $0 chat ckpt/chat --seed 1 > answers.txt", 'two turns of one conversation from a pipe, each answer followed by a line break') as unknown as Argv<ChatArgs>,
  handler: async (argv) => {
    const { runChat } = await import('../lib/cli/chat.js');
    await runChat(argv);
  },
};

function toolNames(value: string): string[] {
  return String(value)
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
}
