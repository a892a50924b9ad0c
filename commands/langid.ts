import type { Argv, CommandModule } from 'yargs';
import { withOutputOptions, type OutputArgs } from '../lib/cli/options.js';
import { runPipeline } from '../lib/cli/pipeline.js';
import { fraction } from '../lib/cli/validate.js';
import { langid, parseLangs } from '../lib/text/langid-stage.js';

interface LangidArgs extends OutputArgs {
  langs?: string;
  'min-lang-score': number;
  'keep-existing': boolean;
}

export const langidCommand: CommandModule<object, LangidArgs> = {
  command: 'langid [inputs..]',
  describe: 'Identify the language of JSONL documents (adds lang, lang_score; 60 languages); optionally keep only some',
  builder: (yargs: Argv) =>
    withOutputOptions(yargs)
      .option('langs', { type: 'string', describe: 'Keep only these languages (comma-separated ISO 639-1 codes); the others go to --rejects' })
      .option('min-lang-score', { type: 'number', default: 0, coerce: fraction('--min-lang-score'), describe: 'Drop documents whose language confidence is below this (0-1)' })
      .option('keep-existing', { type: 'boolean', default: false, describe: 'Keep lang/lang_score that documents already have instead of re-identifying' })
      .example('$0 langid docs.jsonl > tagged.jsonl', 'add lang and lang_score to every document')
      .example('$0 langid docs.jsonl --langs zh,en --min-lang-score 0.65 --rejects other.jsonl', 'keep confident Chinese and English') as unknown as Argv<LangidArgs>,
  handler: async (argv) => {
    const langs = parseLangs(argv.langs);
    await runPipeline('langid', argv, (docs, { rejects }) =>
      langid(docs, { langs, minLangScore: argv['min-lang-score'], overwrite: !argv['keep-existing'], rejects }),
    );
  },
};
