import type { Argv, CommandModule } from 'yargs';
import { withOutputOptions, type OutputArgs } from '../lib/cli/options.js';
import { runPipeline } from '../lib/cli/pipeline.js';
import { fraction } from '../lib/cli/validate.js';
import { ANY_FLAG, checkFilterOptions, filter, parseThreshold, type MissingPolicy, type Threshold } from '../lib/data/filter.js';
import { parseLangs } from '../lib/text/langid-stage.js';

interface FilterArgs extends OutputArgs {
  min: Threshold[];
  max: Threshold[];
  'drop-flag': string[];
  langs: string[];
  'min-lang-score': number;
  missing: MissingPolicy;
}

const thresholds = (flag: string) => (values: string[]) => values.map((v) => parseThreshold(flag, String(v)));
/** Repeatable and comma-separated: `--drop-flag a,b --drop-flag c`. */
const list = (values: string[] | string) => [values].flat().flatMap((v) => String(v).split(',')).map((v) => v.trim()).filter(Boolean);

export const filterCommand: CommandModule<object, FilterArgs> = {
  command: 'filter [inputs..]',
  describe: 'Keep or drop documents by score thresholds, flags and language; every drop goes to --rejects with its reason',
  builder: (yargs: Argv) =>
    withOutputOptions(yargs)
      .option('min', { type: 'string', array: true, default: [], coerce: thresholds('--min'), describe: 'Drop documents whose FIELD is below NUMBER (FIELD=NUMBER; a bare name is scores.NAME); repeatable' })
      .option('max', { type: 'string', array: true, default: [], coerce: thresholds('--max'), describe: 'Drop documents whose FIELD is above NUMBER (FIELD=NUMBER); repeatable' })
      .option('drop-flag', { type: 'string', array: true, default: [], coerce: list, describe: `Drop documents carrying this flag (flags.NAME); ${ANY_FLAG} drops any flag; repeatable or comma-separated` })
      .option('langs', { type: 'string', default: [], coerce: parseLangs, describe: 'Keep only these languages (lang field; comma-separated ISO 639-1 codes)' })
      .option('min-lang-score', { type: 'number', default: 0, coerce: fraction('--min-lang-score'), describe: 'Drop documents whose lang_score is below this (0-1)' })
      .option('missing', { choices: ['drop', 'keep'] as const, default: 'drop' as const, describe: 'A document without the field a test reads: drop it (reason "missing FIELD") or keep it (the test is skipped)' })
      .check((argv) => {
        checkFilterOptions({ min: argv.min, max: argv.max, dropFlags: argv['drop-flag'], langs: argv.langs, minLangScore: argv['min-lang-score'] });
        return true;
      })
      .example('$0 filter scored.jsonl --min quality=0.5 --drop-flag offensive > kept.jsonl', 'quality score ≥ 0.5 and no offensive flag')
      .example("$0 filter scored.jsonl --max scores.perplexity=1000 --drop-flag '*' --langs zh,en --rejects dropped.jsonl", 'every test at once; dropped documents with their reasons')
      .example('$0 filter scored.jsonl --min quality=0.3 --missing keep', 'documents never scored pass') as unknown as Argv<FilterArgs>,
  handler: async (argv) => {
    await runPipeline('filter', argv, (docs, { rejects }) =>
      filter(docs, { min: argv.min, max: argv.max, dropFlags: argv['drop-flag'], langs: argv.langs, minLangScore: argv['min-lang-score'], missing: argv.missing, rejects }),
    );
  },
};
