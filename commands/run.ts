import { register } from 'node:module';
import { existsSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../lib/errors.js';

interface RunArgs {
  script: string;
  args: string[];
  '--'?: string[];
}

export const runCommand: CommandModule<object, RunArgs> = {
  command: 'run <script> [args..]',
  describe: "Run a TypeScript or JavaScript script that composes loom's stages in one process",
  builder: (yargs: Argv) =>
    yargs
      .positional('script', { type: 'string', demandOption: true, describe: 'Script file (.ts, .mts, .js, .mjs)' })
      .positional('args', { type: 'string', array: true, default: [] as string[], describe: 'Arguments for the script (after --), in process.argv.slice(2)' })
      .parserConfiguration({ 'unknown-options-as-args': true, 'populate--': true })
      .strict(false)
      .example('$0 run examples/pipeline.ts -- docs.jsonl', "the script does `import { readDocs, sample } from 'loom'`") as unknown as Argv<RunArgs>,
  handler: async (argv) => {
    const script = resolvePath(argv.script);
    if (!existsSync(script)) throw new UsageError(`${argv.script}: no such script`);
    const fromSource = import.meta.url.endsWith('.ts');
    const entry = new URL(fromSource ? '../lib/index.ts' : '../lib/index.js', import.meta.url).href;
    const hooks = new URL(fromSource ? '../lib/cli/resolve-loom.ts' : '../lib/cli/resolve-loom.js', import.meta.url);
    const scriptUrl = pathToFileURL(script).href;
    // tsx first, so that our hook runs before it and sees what it resolved. Imported here, not at
    // the top, to keep it out of every other command's start-up.
    const { register: registerTsx } = await import('tsx/esm/api');
    registerTsx();
    register(hooks, { data: { entry, script: scriptUrl } });
    process.argv = [process.argv[0]!, script, ...[...argv.args, ...(argv['--'] ?? [])].map(String)];
    await import(scriptUrl);
  },
};
