#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { commands } from '../commands/index.js';
import { ENV_PREFIX, setAsideForeignEnv } from '../lib/cli/env.js';
import { withGlobalOptions } from '../lib/cli/options.js';
import { DataError, EXIT_DATA, EXIT_USAGE, UsageError, errorMessage } from '../lib/io/errors.js';
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
    if (err && !(err instanceof UsageError)) throw err;
    process.stderr.write(`loom: ${describeUsageError(message ?? errorMessage(err))}\nRun with --help for usage.\n`);
    process.exit(EXIT_USAGE);
  });

/** yargs calls an unknown command an unknown argument; say what it is. */
function describeUsageError(message: string): string {
  const first = args.find((token) => !token.startsWith('-'));
  const known = commands.some((c) => String(c.command).split(' ')[0] === first);
  if (first && !known && /^Unknown arguments?: /.test(message) && message.split(/[:,] /).includes(first)) return `unknown command "${first}"`;
  if (/^Did you mean /.test(message)) return `unknown command "${first}". ${message}`;
  return message;
}

try {
  await cli.parseAsync();
} catch (err) {
  if (err instanceof UsageError) {
    process.stderr.write(`loom: ${err.message}\n`);
    process.exit(EXIT_USAGE);
  }
  process.stderr.write(`loom: ${err instanceof DataError ? err.message : errorMessage(err)}\n`);
  if (!(err instanceof DataError) && process.env.LOOM_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(EXIT_DATA);
}
