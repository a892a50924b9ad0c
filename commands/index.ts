import type { CommandModule } from 'yargs';
import { catCommand } from './cat.js';
import { chatCommand } from './chat.js';
import { compareCommand } from './compare.js';
import { dedupCommand } from './dedup.js';
import { dpoCommand } from './dpo.js';
import { evalCommand } from './eval.js';
import { extractCommand } from './extract.js';
import { filterCommand } from './filter.js';
import { generateCommand } from './generate.js';
import { inspectCommand } from './inspect.js';
import { langidCommand } from './langid.js';
import { mixCommand } from './mix.js';
import { ppoCommand } from './ppo.js';
import { pretrainCommand } from './pretrain.js';
import { reviewCommand } from './review.js';
import { rmCommand } from './rm.js';
import { runCommand } from './run.js';
import { sampleCommand } from './sample.js';
import { scoreCommand } from './score.js';
import { sftCommand } from './sft.js';
import { tokenizeCommand } from './tokenize.js';

/** Every implemented command, in pipeline order then the utilities; bin/loom.ts registers exactly these. */
export const commands: CommandModule<any, any>[] = [
  extractCommand,
  langidCommand,
  dedupCommand,
  scoreCommand,
  filterCommand,
  mixCommand,
  tokenizeCommand,
  pretrainCommand,
  sftCommand,
  rmCommand,
  dpoCommand,
  ppoCommand,
  generateCommand,
  chatCommand,
  evalCommand,
  compareCommand,
  catCommand,
  inspectCommand,
  sampleCommand,
  reviewCommand,
  runCommand,
];
