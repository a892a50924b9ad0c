import type { Argv, CommandModule } from 'yargs';
import { DEFAULT_SYSTEM_PROMPT } from '../lib/chat/turns.js';
import type { ChatArgs } from '../lib/cli/chat.js';
import { LOOP_FLAGS } from '../lib/cli/model-flags.js';
import { SAMPLING_FLAGS } from '../lib/cli/sampling-flags.js';
import { TOOL_FLAGS } from '../lib/infer/tools/flags.js';
import { positiveInteger } from '../lib/cli/validate.js';

export const chatCommand: CommandModule<object, ChatArgs> = {
  command: 'chat <checkpoint>',
  describe: 'Talk with a chat model in the terminal (streamed answers, history, /commands); with stdin or stdout not a terminal, each input line is a user turn and each answer a line group on stdout',
  builder: (yargs: Argv) =>
    yargs
      .positional('checkpoint', { type: 'string', demandOption: true, describe: 'A chat model checkpoint (loom sft/ppo --out, or a Hugging Face Qwen2 directory)' })
      .option('system', { type: 'string', default: DEFAULT_SYSTEM_PROMPT, describe: "The system prompt ('' for none; /system changes it)" })
      .options(SAMPLING_FLAGS)
      .options(TOOL_FLAGS)
      .option('max-new', { alias: 'max-new-tokens', type: 'number', default: 512, coerce: positiveInteger('--max-new'), describe: 'Most new tokens an answer gets' })
      .option('context', { type: 'number', coerce: positiveInteger('--context'), describe: "Most tokens of conversation and answer; older exchanges are left out of the prompt beyond it (default: the checkpoint's max_position_embeddings)" })
      .option('device', LOOP_FLAGS.device)
      .example('$0 chat ckpt/chat', 'talk in the terminal; /help lists the commands')
      .example('$0 chat ckpt/chat -t 0 --system "You answer in one sentence."', 'greedy answers under another system prompt')
      .example('$0 chat ckpt/chat --tools python,calculator', 'the model may run Python and do arithmetic before it answers')
      .example("printf 'hi\\nwhat is 2+2?\\n' | $0 chat ckpt/chat --seed 1 > answers.txt", 'two turns of one conversation from a pipe, each answer followed by a line break') as unknown as Argv<ChatArgs>,
  handler: async (argv) => {
    const { runChat } = await import('../lib/cli/chat.js');
    await runChat(argv);
  },
};
