#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { commands } from '../commands/index.js';
import { ENV_PREFIX, setAsideForeignEnv } from '../lib/cli/env.js';
import { withGlobalOptions } from '../lib/cli/options.js';
import { DataError, EXIT_DATA, EXIT_USAGE, UsageError, errorMessage, escapeControls } from '../lib/errors.js';
import { exitQuietlyOnEpipe } from '../lib/io/stdout.js';
import { VERSION } from '../lib/version.js';

exitQuietlyOnEpipe();

const args = hideBin(process.argv);
const restoreEnv = setAsideForeignEnv(args, commands, withGlobalOptions);
const cli = withGlobalOptions(yargs(args))
  .scriptName('loom')
  .usage('$0 <command> [options]\n\nRaw web crawls to an aligned chat model, as small composable commands.\nRecords are JSONL on stdin/stdout; logs and progress go to stderr.')
  .command(commands)
  .demandCommand(1, 'Give a command; see loom --help')
  .env(ENV_PREFIX)
  .middleware(restoreEnv)
  .strict()
  .recommendCommands()
  .version(VERSION)
  .alias('h', 'help')
  .alias('V', 'version')
  .wrap(Math.min(110, process.stdout.columns || 100))
  .epilogue('Exit codes: 0 ok, 1 data or runtime error, 2 usage. Config precedence: flags > LOOM_* environment > --config file > defaults.')
  .fail((message, err) => {
    // yargs reports a flag refused by a `coerce` validator, and its own parse errors, as YError.
    if (err && !(err instanceof UsageError) && err.name !== 'YError') throw err;
    process.stderr.write(`loom: ${describeUsageError(message ?? errorMessage(err))}\nRun with --help for usage.\n`);
    process.exit(EXIT_USAGE);
  });

/**
 * yargs calls an unknown command an unknown argument, and blames a mistyped subcommand
 * (`loom eval foo`) on its parent: name the word and what it could have been instead.
 */
function describeUsageError(message: string): string {
  // getInternalMethods() exists at run time but is missing from @types/yargs.
  const internals = (cli as unknown as { getInternalMethods(): { getContext(): { commands: string[] }; getCommandInstance(): { getCommands(): string[] } } }).getInternalMethods();
  const path = internals.getContext().commands;
  const choices = internals.getCommandInstance().getCommands();
  const word = args.filter((token) => !token.startsWith('-'))[path.length];
  if (word === undefined || choices.length === 0 || choices.includes(word)) return message;
  const unknown = /^Did you mean /.test(message) || (/^Unknown arguments?: /.test(message) && message.split(/[:,] /).includes(word));
  if (!unknown) return message;
  if (path.length === 0) return /^Did you mean /.test(message) ? `unknown command "${word}". ${message}` : `unknown command "${word}"`;
  return `unknown ${path.join(' ')} subcommand "${word}"; one of: ${choices.join(', ')}`;
}

try {
  await cli.parseAsync();
} catch (err) {
  if (err instanceof UsageError) {
    process.stderr.write(`loom: ${err.message}\n`);
    process.exit(EXIT_USAGE);
  }
  // Messages can quote input (a library's parse error, say): escaped, they cannot garble the terminal.
  process.stderr.write(`loom: ${escapeControls(errorMessage(err))}\n`);
  if (!(err instanceof DataError) && process.env.LOOM_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(EXIT_DATA);
}
