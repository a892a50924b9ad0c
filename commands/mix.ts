import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../lib/errors.js';
import { resolveInputs } from '../lib/io/inputs.js';
import { writeManifest } from '../lib/io/manifest.js';
import { withOutputOptions, type OutputArgs } from '../lib/cli/options.js';
import { runPipeline } from '../lib/cli/pipeline.js';
import { positiveNumber } from '../lib/cli/validate.js';
import { fieldMixInput, fileMixInput, mix, OTHER_SOURCES, parseSourceSpec, type MixReport, type MixUnit } from '../lib/data/mix.js';
import { formatCount } from '../lib/ui/format.js';

interface MixArgs extends OutputArgs {
  by?: string;
  weight: [string, number][];
  unit: MixUnit;
  total?: number;
  'max-epochs': number;
}

/** `--weight books=3` (repeatable) → [name, weight] pairs. */
function parseWeights(values: string[]): [string, number][] {
  return values.map((text) => {
    const match = /^(.+)=(\d+(?:\.\d*)?|\.\d+)$/.exec(String(text));
    if (!match) throw new UsageError(`--weight must be NAME=WEIGHT with a weight ≥ 0 (like books=3), got ${JSON.stringify(text)}`);
    return [match[1]!, Number(match[2])];
  });
}

/** The sources named on the command line (`web=web.jsonl.gz:1`), or undefined when the inputs are plain (mixed --by a field). */
export function sourceSpecs(argv: Pick<MixArgs, 'inputs' | 'by' | 'weight'>) {
  const specs = argv.inputs.map(parseSourceSpec);
  if (argv.inputs.length === 0 || argv.inputs.includes('-')) {
    throw new UsageError('mix reads its inputs more than once (to count them, then to draw from them): give files, not stdin');
  }
  if (specs.every((s) => s === undefined)) {
    if (argv.weight.length === 0) throw new UsageError(`mix: give sources as NAME=INPUT[:WEIGHT], or weights for the values of --by ${argv.by ?? 'source'} with --weight NAME=W`);
    return undefined;
  }
  if (specs.some((s) => s === undefined)) throw new UsageError('mix: give every input as NAME=INPUT[:WEIGHT], or none (and weigh a field with --by and --weight)');
  if (argv.weight.length > 0 || argv.by !== undefined) throw new UsageError('mix: --weight and --by are for plain inputs; NAME=INPUT:WEIGHT sources carry their own weights');
  const named = specs as NonNullable<(typeof specs)[number]>[];
  const twice = named.find((s, i) => named.findIndex((t) => t.name === s.name) !== i);
  if (twice) throw new UsageError(`mix: source ${twice.name} is named twice (give it one input: a glob or a directory)`);
  if (named.some((s) => s.name === OTHER_SOURCES)) throw new UsageError(`mix: ${OTHER_SOURCES} is not a source name`);
  return named;
}

/** The realised mix, one line per source, for stderr. */
export function formatMixReport(report: MixReport): string {
  const unit = report.unit === 'docs' ? 'docs' : 'text bytes';
  const header = ['source', 'weight', 'target', 'docs in', 'epochs', 'docs out', `share (${unit})`];
  const rows = report.sources.map((s) => [
    s.name,
    String(s.weight),
    `${(100 * s.target_share).toFixed(1)}%`,
    formatCount(s.docs_in),
    `${s.epochs.toFixed(2)}${s.capped ? ' (cap)' : ''}`,
    formatCount(s.docs_out),
    `${(100 * s.share).toFixed(1)}%`,
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) => '  ' + cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  const lines = [`loom mix: ${report.sources.length} sources, shares of ${unit}, at most ${report.max_epochs} epochs each`, line(header), ...rows.map(line)];
  if (report.sources.some((s) => s.capped)) {
    lines.push(`  capped sources fall short of their target; --total ${Math.floor(report.uncapped_total)} or less (or a higher --max-epochs) meets every target`);
  }
  return lines.join('\n') + '\n';
}

export const mixCommand: CommandModule<object, MixArgs> = {
  command: 'mix [inputs..]',
  describe: 'Mix sources (input files, or values of a field) to target shares: up-sample by repetition (capped epochs) or down-sample, seeded',
  builder: (yargs: Argv) =>
    withOutputOptions(yargs)
      .positional('inputs', { type: 'string', array: true, default: [] as string[], describe: 'NAME=INPUT[:WEIGHT] sources (INPUT: a file, glob or shard directory; WEIGHT default 1), or plain inputs mixed --by a field' })
      .option('by', { type: 'string', describe: 'Plain inputs: the field that names each document\'s source (dotted path)', defaultDescription: 'source' })
      .option('weight', { type: 'string', array: true, default: [], coerce: parseWeights, describe: `Plain inputs: NAME=WEIGHT for a value of --by (0 leaves it out; ${OTHER_SOURCES}=W for every other value); repeatable` })
      .option('unit', { choices: ['docs', 'bytes'] as const, default: 'docs' as const, describe: 'Shares of documents, or of UTF-8 bytes of text (closer to tokens)' })
      .option('total', { type: 'number', coerce: positiveNumber('--total'), describe: 'Size of the mix in --unit', defaultDescription: 'the weighted sources\' size together' })
      .option('max-epochs', { type: 'number', default: 4, coerce: positiveNumber('--max-epochs'), describe: 'Repeat no source more than this many times; a capped source\'s shortfall goes to the others' })
      .check((argv) => {
        sourceSpecs(argv as unknown as MixArgs);
        return true;
      })
      .example('$0 mix web=web.jsonl.gz:1 books=books.jsonl:3 --seed 1 > mix.jsonl', 'a quarter web, three quarters books (books repeated up to 4 times)')
      .example('$0 mix docs.jsonl --weight wiki=2 --weight "*=1" --unit bytes --out mixed/', 'weigh the values of the source field; shares of text bytes')
      .example('$0 mix code=code/:1 web=web/:4 --total 100000 --max-epochs 2', '100,000 documents from two shard directories, a fifth code') as unknown as Argv<MixArgs>,
  handler: async (argv) => {
    const sources = sourceSpecs(argv);
    const weights = new Map(sources ? sources.map((s) => [s.name, s.weight] as const) : argv.weight);
    const report: Partial<MixReport> = {};
    const manifest = await runPipeline(
      'mix',
      // The resume fingerprint sees the inputs' files; the source specs stay in the configuration.
      { ...argv, inputs: sources ? sources.map((s) => s.input) : argv.inputs, ...(sources ? { sources: argv.inputs } : {}) } as MixArgs,
      (docs) => docs,
      {
        read: (_specs, readOpts) =>
          mix(
            sources ? fileMixInput(sources.map((s) => ({ name: s.name, inputs: [s.input] })), readOpts) : fieldMixInput(argv.inputs, argv.by ?? 'source', readOpts),
            { weights, unit: argv.unit, total: argv.total, maxEpochs: argv['max-epochs'], seed: argv.seed },
            report,
          ),
        resolve: resolveInputs,
      },
    );
    const realised = report.sources ? (report as MixReport) : (manifest?.mix as MixReport | undefined);
    if (argv.out && manifest && report.sources) writeManifest(argv.out, { ...manifest, mix: realised });
    if (realised && !argv.quiet) process.stderr.write(formatMixReport(realised));
  },
};
