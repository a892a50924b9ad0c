// Every `loom …` example in README.md, docs/*.md, the examples' READMEs and Makefiles and each
// command's --help must name commands and flags that exist and pass loom's argument parsing.
// Examples are parsed in this process by loom's own command tree, stopped just before the command
// would run (a dry run).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import yargs from 'yargs';
import { commands } from '../../commands/index.js';
import { withGlobalOptions } from '../../lib/cli/options.js';
import { checkFineTuneArgs, checkPretrainArgs, type PretrainArgs, type RmArgs, type SftArgs } from '../../lib/cli/model-flags.js';
import { ROOT } from '../helpers/cli.js';

/** Thrown by the last middleware: the arguments parsed and validated, and the command would run now. */
class DryRun extends Error {}

/** Usage checks a command makes in its handler, before any work (run here too, so they count). */
const HANDLER_CHECKS: Record<string, (argv: never) => void> = {
  pretrain: (argv: PretrainArgs) => checkPretrainArgs(argv),
  sft: (argv: SftArgs) => checkFineTuneArgs(argv, 'chat records'),
  // `rm score` has its own positional checks; `rm` itself trains
  rm: (argv: RmArgs & { _: (string | number)[] }) => argv._[1] === 'score' || checkFineTuneArgs(argv, 'preference pairs'),
};

/** Parses `args` as loom would; the problem in loom's words, or undefined when it would run. */
async function dryRun(args: string[]): Promise<string | undefined> {
  const cli = loomParser().middleware((argv) => {
    HANDLER_CHECKS[String(argv._[0])]?.(argv as never);
    throw new DryRun();
  }, false);
  try {
    await cli.parseAsync(args);
    return 'parsed without reaching a command';
  } catch (err) {
    return err instanceof DryRun ? undefined : (err as Error).message;
  }
}

/** The text `loom ARGS --help` prints. */
async function helpText(args: string[]): Promise<string> {
  let output = '';
  await loomParser().parseAsync([...args, '--help'], {}, (_err, _argv, text) => {
    output = text;
  });
  return output;
}

function loomParser() {
  return withGlobalOptions(yargs())
    .scriptName('loom')
    .command(commands)
    .demandCommand(1)
    .strict()
    .exitProcess(false)
    .wrap(null)
    .fail((message, err) => {
      throw err ?? new Error(message);
    });
}

/** The lines of a help section (`Commands:`, `Examples:`), split into their two columns. */
function helpSection(help: string, title: string): { left: string; right: string }[] {
  const lines = help.split('\n');
  const start = lines.indexOf(`${title}:`);
  if (start < 0) return [];
  const rows: { left: string; right: string }[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith('  ')) break;
    const [left, right = ''] = line.trim().split(/\s{2,}/);
    rows.push({ left: left!, right });
  }
  return rows;
}

interface Example {
  where: string;
  text: string;
}

/** Every command path (`tokenize`, `tokenize train`, …) with its help text, two levels deep. */
async function commandTree(): Promise<Map<string, string>> {
  const tree = new Map<string, string>();
  const visit = async (path: string[]) => {
    const help = await helpText(path);
    tree.set(path.join(' '), help);
    if (path.length === 2) return;
    for (const { left } of helpSection(help, 'Commands')) {
      const words = left.split(' ').slice(1).filter((w) => /^[a-z]/.test(w));
      if (words.length === path.length + 1) await visit(words);
    }
  };
  await visit([]);
  return tree;
}

/** Shell words of one command (quotes removed), without redirections and leading VAR=value. */
function shellWords(command: string): string[] {
  const words = [...command.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
  const kept: string[] = [];
  for (let i = 0; i < words.length; i++) {
    if (/^\d?>>?$|^<$/.test(words[i]!)) i += 1;
    else if (!/^\d?>>?\S|^<\S/.test(words[i]!)) kept.push(words[i]!);
  }
  while (kept.length > 0 && /^[A-Z_]+=/.test(kept[0]!)) kept.shift();
  return kept;
}

/** The loom invocations of a shell line: each `loom …` between pipes, `&&` and `;`. */
function loomInvocations(line: string): string[][] {
  return line
    .split(/\s*(?:\|\|?|&&|;)\s*/)
    .map(shellWords)
    .filter((words) => words[0] === 'loom')
    .map((words) => words.slice(1));
}

/** Shell lines of the fenced code blocks (sh or unlabelled), continuations joined, comments cut. */
function fencedShellLines(markdown: string): string[] {
  const lines: string[] = [];
  let inBlock = false, shell = false, pending = '';
  for (const line of markdown.split('\n')) {
    const fence = /^\s*```(\w*)/.exec(line);
    if (fence) {
      inBlock = !inBlock;
      shell = inBlock && ['', 'sh', 'bash', 'shell', 'console'].includes(fence[1]!);
      continue;
    }
    if (!inBlock || !shell) continue;
    const code = line.replace(/(^|\s)#\s.*$/, '').trimEnd();
    if (code.endsWith('\\')) pending += code.slice(0, -1) + ' ';
    else {
      lines.push((pending + code).trim());
      pending = '';
    }
  }
  return lines;
}

/** `loom …` spans in inline code (`` `loom dedup --report FILE` ``): usage synopses with placeholders. */
function inlineSpans(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, '');
  // `loom cat: 2 in · …` quotes loom's output, not a command.
  return [...prose.matchAll(/`(loom [^`]+)`/g)].map((m) => m[1]!).filter((span) => !/^loom [\w ]+:/.test(span));
}

function markdownFiles(): string[] {
  const examples = readdirSync(join(ROOT, 'examples')).map((d) => `examples/${d}/README.md`).filter((f) => existsSync(join(ROOT, f)));
  return ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`), ...examples];
}

/** Recipe lines of the examples' Makefiles that call loom, with the Makefile's own defaults filled in. */
function makefileLines(): Example[] {
  const examples: Example[] = [];
  for (const dir of readdirSync(join(ROOT, 'examples'))) {
    const path = join(ROOT, 'examples', dir, 'Makefile');
    if (!existsSync(path)) continue;
    const text = readFileSync(path, 'utf8').replace(/\\\n\s*/g, ' ');
    const defaults = new Map([...text.matchAll(/^(\w+) \?= ?(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
    text.split('\n').forEach((line, i) => {
      if (!/^\t.*\$\((LOOM|BIN)\)/.test(line)) return;
      const filled = line
        .trim()
        .replace(/\$\((LOOM|BIN)\)/g, 'loom')
        .replace(/\$\((\w+)\)/g, (_, name: string) => defaults.get(name) ?? '')
        .replace(/\$\*/g, '0')
        .replace(/\$[<@^]/g, 'work/file');
      examples.push({ where: `examples/${dir}/Makefile:${i + 1}`, text: filled });
    });
  }
  return examples;
}

test('every loom example in the README, the docs, the examples and --help names real commands and flags and parses', async () => {
  const tree = await commandTree();
  assert.ok(tree.has('tokenize train') && tree.has('eval ppl'), `command tree: ${[...tree.keys()].join(', ')}`);
  const examples: Example[] = [];
  for (const file of markdownFiles()) {
    for (const line of fencedShellLines(readFileSync(join(ROOT, file), 'utf8'))) examples.push({ where: file, text: line });
  }
  examples.push(...makefileLines());
  for (const [path, help] of tree) {
    for (const { left } of helpSection(help, 'Examples')) examples.push({ where: `loom ${path} --help`, text: left });
  }
  const problems: string[] = [];
  let checked = 0;
  for (const { where, text } of examples) {
    for (const args of loomInvocations(text)) {
      checked += 1;
      const problem = await dryRun(args);
      if (problem) problems.push(`${where}: loom ${args.join(' ')}\n    ${problem}`);
      for (const path of args.filter((a) => a.startsWith('examples/'))) {
        if (!existsSync(join(ROOT, path))) problems.push(`${where}: loom ${args.join(' ')}\n    ${path} does not exist`);
      }
    }
  }
  assert.ok(checked > 40, `only ${checked} examples found: is the extraction broken?`);
  assert.deepEqual(problems, []);
});

test('every `loom …` named inline in the README and docs is a real command, with flags it has', async () => {
  const tree = await commandTree();
  const problems: string[] = [];
  for (const file of markdownFiles()) {
    for (const span of inlineSpans(readFileSync(join(ROOT, file), 'utf8'))) {
      for (const segment of span.split(/\s*\|\s*/).filter((s) => s.startsWith('loom'))) {
        const words = segment.split(/\s+/).slice(1);
        const path: string[] = [];
        while (words.length > 0 && tree.has([...path, words[0]].join(' '))) path.push(words.shift()!);
        if (path.length === 0 && words.length > 0 && /^[a-z]/.test(words[0]!)) {
          problems.push(`${file}: \`${span}\`: no command "${words[0]}"`);
          continue;
        }
        const help = tree.get(path.join(' '))!;
        for (const flag of words.filter((w) => /^--?[a-zA-Z]/.test(w)).map((w) => w.replace(/[=,.:;)]+.*$/, ''))) {
          if (!new RegExp(`(^|[\\s,])${flag}([\\s,]|$)`, 'm').test(help)) problems.push(`${file}: \`${span}\`: loom ${path.join(' ')} has no ${flag}`);
        }
      }
    }
  }
  assert.deepEqual(problems, []);
});

test('the docs link only to files that exist', () => {
  const problems: string[] = [];
  for (const file of markdownFiles()) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const links = [...text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:/.test(l));
    const named = [...text.matchAll(/(?<![\w/.-])([A-Z][A-Z_]+\.md)\b/g)].map((m) => m[1]!);
    for (const target of [...links, ...named]) {
      if (!existsSync(join(ROOT, dirname(file), target)) && !existsSync(join(ROOT, target))) problems.push(`${file}: ${target} does not exist`);
    }
  }
  assert.deepEqual(problems, []);
});
