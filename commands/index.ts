import type { CommandModule } from 'yargs';
import { catCommand } from './cat.js';
import { extractCommand } from './extract.js';
import { langidCommand } from './langid.js';
import { dedupCommand } from './dedup.js';
import { inspectCommand } from './inspect.js';
import { runCommand } from './run.js';
import { sampleCommand } from './sample.js';
import { tokenizeCommand } from './tokenize.js';
import { pretrainCommand } from './pretrain.js';
import { evalCommand } from './eval.js';

/** Every implemented command; bin/loom.ts registers exactly these. */
export const commands: CommandModule<any, any>[] = [catCommand, inspectCommand, sampleCommand, runCommand, dedupCommand, extractCommand, langidCommand, tokenizeCommand, pretrainCommand, evalCommand];
