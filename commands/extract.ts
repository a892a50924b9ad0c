import type { Argv, CommandModule } from 'yargs';
import { withOutputOptions, type OutputArgs } from '../lib/cli/options.js';
import { runPipeline } from '../lib/cli/pipeline.js';
import { fraction, nonNegativeInteger, positiveNumber } from '../lib/cli/validate.js';
import type { StageRun } from '../lib/stage.js';
import { extract, EXTRACT_DEFAULTS } from '../lib/data/extract/extract.js';
import type { Favor } from '../lib/data/extract/main-content.js';
import { readPages, resolvePageInputs } from '../lib/data/extract/pages.js';
import { parseLangs } from '../lib/text/langid-stage.js';

interface ExtractArgs extends OutputArgs {
  workers: number;
  favor: Favor;
  'keep-comments': boolean;
  'min-chars': number;
  'max-page-mb': number;
  'page-timeout': number;
  'max-heap-mb': number;
  langs?: string;
  'min-lang-score': number;
}

export const extractCommand: CommandModule<object, ExtractArgs> = {
  command: 'extract [inputs..]',
  describe: 'Web pages (WARC/WARC.gz, HTML files or directories, JSONL with an html field) to clean, language-tagged text documents',
  builder: (yargs: Argv) =>
    withOutputOptions(yargs)
      .positional('inputs', { type: 'string', array: true, default: [] as string[], describe: 'WARC or WARC.gz files, HTML files, directories of them, globs, JSONL with an "html" field (and "url"), or - for stdin' })
      .option('workers', { alias: 'j', type: 'number', default: EXTRACT_DEFAULTS.workers, coerce: nonNegativeInteger('--workers'), defaultDescription: 'all cores', describe: 'Worker threads (0: in the main thread, without time and heap caps); the output is the same for any number' })
      .option('favor', { choices: ['precision', 'balanced', 'recall'] as const, default: 'balanced' as const, describe: 'precision: less boilerplate, may miss text; recall: more text, may keep some boilerplate' })
      .option('keep-comments', { type: 'boolean', default: false, describe: 'Keep comment sections and a product page\'s reviews (dropped by default)' })
      .option('min-chars', { type: 'number', default: EXTRACT_DEFAULTS.minChars, coerce: nonNegativeInteger('--min-chars'), describe: 'Drop pages with fewer characters of main text' })
      .option('max-page-mb', { type: 'number', default: EXTRACT_DEFAULTS.maxPageBytes / 2 ** 20, coerce: positiveNumber('--max-page-mb'), describe: 'Skip pages larger than this (MiB, before decompression of the page body)' })
      .option('page-timeout', { type: 'number', default: EXTRACT_DEFAULTS.pageTimeoutMs / 1000, coerce: positiveNumber('--page-timeout'), describe: 'Seconds one page may take; a slower page is skipped and its worker replaced' })
      .option('max-heap-mb', { type: 'number', default: EXTRACT_DEFAULTS.maxHeapMb, coerce: positiveNumber('--max-heap-mb'), describe: 'Heap cap of each worker; a page that exceeds it is skipped' })
      .option('langs', { type: 'string', describe: 'Keep only these languages (comma-separated ISO 639-1, e.g. zh,en); others go to --rejects' })
      .option('min-lang-score', { type: 'number', default: 0, coerce: fraction('--min-lang-score'), describe: 'Drop documents whose language confidence is below this (0-1), with or without --langs' })
      .example('$0 extract crawl.warc.gz > docs.jsonl', 'main text of every HTML response, with url, title, date, lang, lang_score, warc_record_id')
      .example("$0 extract 'crawl/*.warc.gz' --langs zh,en --min-lang-score 0.65 --rejects rejects.jsonl --out docs/", 'keep Chinese and English, into resumable shards')
      .example('$0 extract saved-pages/ --favor recall --keep-comments', 'a directory of .html files, keeping more text')
      .example('$0 extract pages.jsonl -j 8 | loom dedup', 'JSONL records with "html" (and "url") fields') as unknown as Argv<ExtractArgs>,
  handler: async (argv) => {
    const langs = parseLangs(argv.langs);
    const maxPageBytes = Math.round(argv['max-page-mb'] * 2 ** 20);
    let stage: StageRun | undefined;
    const input = {
      read: (specs: readonly string[], opts: Parameters<typeof readPages>[1]) =>
        readPages(specs, { ...opts, maxPageBytes, count: (key: string, n = 1) => { if (stage) stage.counters.extra[key] = (stage.counters.extra[key] ?? 0) + n; } }),
      resolve: (specs: readonly string[]) => resolvePageInputs(specs),
    };
    await runPipeline(
      'extract',
      argv,
      (docs, { rejects, warn }) =>
        (stage = extract(docs, {
          workers: argv.workers,
          favor: argv.favor,
          keepComments: argv['keep-comments'],
          minChars: argv['min-chars'],
          maxPageBytes,
          pageTimeoutMs: argv['page-timeout'] * 1000,
          maxHeapMb: argv['max-heap-mb'],
          langs,
          minLangScore: argv['min-lang-score'],
          warn,
          rejects,
        })),
      input,
    );
  },
};
