import type { Argv, CommandModule } from 'yargs';
import { resolvedConfig } from '../lib/cli/config.js';
import { checkPpoArgs, PPO_FLAGS, type PpoArgs } from '../lib/cli/ppo-flags.js';

export const ppoCommand: CommandModule<object, PpoArgs> = {
  command: 'ppo',
  describe: "RLHF with PPO, the Qwen report's recipe: an SFT policy, a critic from the reward model, KL to a frozen reference; metrics JSONL on stdout",
  builder: (yargs: Argv) =>
    yargs
      .options(PPO_FLAGS)
      .example('$0 ppo --policy ckpt/sft --reward ckpt/rm --prompts prompts.jsonl --steps 500 --out ckpt/chat', "the report's recipe: 2 responses a prompt at top-p 0.9, KL 0.04, 50 critic warm-up steps")
      .example('$0 ppo --policy ckpt/sft --reward ckpt/rm --prompts prompts.jsonl --ptx-data shards/ --steps 500 --out ckpt/chat', 'with a pre-training loss against the alignment tax')
      .example('$0 ppo --prompts prompts.jsonl --out ckpt/chat --resume', 'continue after an interruption')
      .epilogue('The checkpoint in --out is the policy (a Qwen2ForCausalLM); its critic/ folder holds the value model. reward-kl.svg plots the held-out reward against √KL.') as unknown as Argv<PpoArgs>,
  handler: async (argv) => {
    checkPpoArgs(argv);
    const { runPpo } = await import('../lib/cli/ppo.js');
    await runPpo(argv, resolvedConfig(argv));
  },
};
