import yargs, { type Argv, type CommandModule } from 'yargs';

export const ENV_PREFIX = 'LOOM';

/**
 * yargs' strict mode rejects a `LOOM_*` variable that names no option of the command being run
 * (LOOM_HOME, or LOOM_SHARD_SIZE while running `inspect`). The environment is ambient, so such
 * variables are set aside while the command line is parsed and put back before the command runs.
 * Returns the function that puts them back.
 */
export function setAsideForeignEnv(argv: readonly string[], commands: CommandModule[], global: (y: Argv) => Argv): () => void {
  const name = argv.find((token) => !token.startsWith('-'));
  const command = commands.find((c) => String(c.command).split(' ')[0] === name);
  const probe = global(yargs([]));
  const built = typeof command?.builder === 'function' ? (command.builder(probe) as Argv) : probe;
  // getOptions() exists at run time but is missing from @types/yargs.
  const options = (built as unknown as { getOptions(): { key: Record<string, unknown>; alias: Record<string, string[]> } }).getOptions();
  const known = new Set([...Object.keys(options.key), ...Object.values(options.alias).flat()]);
  const aside: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    // yargs takes every variable that merely starts with the prefix (LOOM, LOOMBIN) as a flag.
    if (!key.startsWith(ENV_PREFIX) || value === undefined) continue;
    const option = key.startsWith(`${ENV_PREFIX}_`) ? key.slice(ENV_PREFIX.length + 1).toLowerCase().replace(/_/g, '-') : '';
    if (!known.has(option)) {
      aside[key] = value;
      delete process.env[key];
    }
  }
  return () => Object.assign(process.env, aside);
}
