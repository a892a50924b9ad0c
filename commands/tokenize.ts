import { existsSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Argv, CommandModule } from 'yargs';
import { resolvedConfig } from '../lib/cli/config.js';
import { withInputOptions, withOutputOptions, type InputArgs, type OutputArgs } from '../lib/cli/options.js';
import { outputsOf, refuseOutputsOverInputs } from '../lib/cli/paths.js';
import { runPipeline, runWithInputs } from '../lib/cli/pipeline.js';
import { fraction, nonNegativeInteger, outputDirectory, outputFile, positiveInteger } from '../lib/cli/validate.js';
import { resolveInputs } from '../lib/io/inputs.js';
import { runFingerprint } from '../lib/io/manifest.js';
import { reportInterrupts } from '../lib/io/shards.js';
import { UsageError } from '../lib/errors.js';
import { writeJsonl } from '../lib/io/write.js';
import { readDocs } from '../lib/io/read.js';
import { readWordList } from '../lib/tokenizer/corpus.js';
import { decodeTokenRecords, decodeTokenShards } from '../lib/tokenizer/decode.js';
import { tokenizeDocs } from '../lib/tokenizer/encode-docs.js';
import { exportHuggingFace } from '../lib/tokenizer/hf.js';
import { packTokens } from '../lib/tokenizer/pack.js';
import { formatRanks } from '../lib/tokenizer/ranks.js';
import { formatStats, languageOf, TokenStats } from '../lib/tokenizer/stats.js';
import { readTokenManifest, SPLITS } from '../lib/shards/manifest.js';
import { Tokenizer } from '../lib/tokenizer/tokenizer.js';
import { checkTraining, PieceCounts, trainMerges } from '../lib/tokenizer/train.js';
import { loadVocabulary, vocabularyHash, type VocabularySpec } from '../lib/tokenizer/vocabulary.js';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

interface VocabArgs {
  vocab: string;
  'special-tokens'?: string;
  nfc: boolean;
}

function withVocabOptions<T>(yargs: Argv<T>) {
  return yargs
    .option('vocab', { type: 'string', default: 'default', describe: 'default (loom\'s 151,643-token vocabulary), cl100k, base (cl100k without multi-digit tokens), or a .tiktoken file (.gz ok), e.g. Qwen\'s qwen.tiktoken' })
    .option('special-tokens', { type: 'string', describe: 'JSON {"<|endoftext|>": id, …}; default: Qwen\'s layout after the regular tokens' })
    .option('nfc', { type: 'boolean', default: true, describe: 'Unicode NFC before encoding, as Qwen does (--no-nfc: encode the text as is)' });
}

function vocabSpec(argv: VocabArgs): VocabularySpec {
  return { vocab: argv.vocab, specialTokens: argv['special-tokens'] };
}

interface EncodeArgs extends OutputArgs, VocabArgs {
  format: 'bin' | 'jsonl';
  'seq-len': number;
  'val-fraction': number;
  'shuffle-buffer': number;
  'shard-tokens': number;
  workers: number;
}

const defaultWorkers = Math.max(0, Math.min(8, availableParallelism() - 1));

const trainCommand: CommandModule<object, InputArgs & VocabArgs & { out: string; merges: number; wordlist: string[]; 'min-frequency': number }> = {
  command: 'train [inputs..]',
  describe: 'Learn new merges on top of a base vocabulary; write a .tiktoken rank file',
  builder: (yargs: Argv) =>
    withVocabOptions(withInputOptions(yargs))
      .option('vocab', { type: 'string', default: 'base', describe: 'Vocabulary to extend: base (cl100k without multi-digit tokens), default, cl100k, or a .tiktoken file' })
      .option('out', { alias: 'o', type: 'string', demandOption: true, coerce: outputFile('--out'), describe: 'The .tiktoken file to write (.gz: gzip-compressed)' })
      .option('merges', { type: 'number', demandOption: true, coerce: positiveInteger('--merges'), describe: 'New tokens to learn' })
      .option('wordlist', { type: 'string', array: true, default: [] as string[], describe: 'Word-frequency lists: "word<TAB>freq" or "word freq [tag]" lines (jieba\'s dict.txt works)' })
      .option('min-frequency', { type: 'number', default: 2, coerce: positiveInteger('--min-frequency'), describe: 'Stop when the most frequent pair is seen fewer times' })
      .example('$0 tokenize train --wordlist words.tsv --merges 20000 -o my.tiktoken', 'extend Qwen\'s base with words from a frequency list')
      .example('$0 tokenize train corpus.jsonl --merges 5000 --vocab default -o more.tiktoken', 'extend the default vocabulary from JSONL text') as unknown as Argv<never>,
  handler: async (argv) => {
    refuseOutputsOverInputs([...argv.inputs, ...argv.wordlist], outputsOf(argv));
    const base = loadVocabulary(vocabSpec(argv));
    const pieces = new PieceCounts(base.pattern, argv.nfc);
    for (const path of argv.wordlist) readWordList(readFileSync(path, 'utf8'), path, pieces);
    if (argv.inputs.length > 0 || argv.wordlist.length === 0) {
      await runWithInputs('tokenize train', argv, async ({ docs }) => {
        for await (const doc of docs) if (typeof doc.text === 'string') pieces.add(doc.text);
      });
    }
    const started = performance.now();
    const result = trainMerges(pieces, base, { merges: argv.merges, minFrequency: argv['min-frequency'] });
    const seconds = (performance.now() - started) / 1000;
    const check = checkTraining(result, pieces, base);
    if (check.mismatches > 0 || check.unsplittable > 0) throw new Error(`training check failed: ${JSON.stringify(check)}`);
    const ranks = Buffer.from(formatRanks(result.tokens), 'latin1');
    writeFileSync(argv.out, argv.out.endsWith('.gz') ? gzipSync(ranks, { level: 9 }) : ranks);
    const summary = {
      out: argv.out,
      tokens: result.tokens.length,
      added: result.added,
      stopped: result.stoppedBecause,
      refused_cascades: result.refused,
      pieces: result.pieces,
      train_seconds: Math.round(seconds * 100) / 100,
      checks: check,
      vocabulary_hash: vocabularyHash({ ...base, tokens: result.tokens, specials: {} }),
    };
    if (!argv.quiet) process.stderr.write(`loom tokenize train: ${JSON.stringify(summary)}\n`);
  },
};

const decodeCommand: CommandModule<object, OutputArgs & VocabArgs & { split: 'train' | 'val' | 'all' }> = {
  command: 'decode [inputs..]',
  describe: 'Token records (tokenize --format jsonl) or token shards back to text',
  builder: (yargs: Argv) =>
    withVocabOptions(withOutputOptions(yargs))
      .option('split', { choices: ['train', 'val', 'all'] as const, default: 'all' as const, describe: 'Which split of a shard directory (all: train, then val)' })
      .example('$0 tokenize decode shards/ --split val | head -3', 'the first documents of the validation split, as {"text", "split", "doc"} records')
      .example('$0 tokenize --format jsonl docs.jsonl | $0 tokenize decode', 'round trip') as unknown as Argv<never>,
  handler: async (argv) => {
    const tokenizer = Tokenizer.load(vocabSpec(argv), { nfc: argv.nfc });
    try {
      const binary = argv.inputs.length > 0 && argv.inputs.every((p) => p.endsWith('.bin') || (existsSync(p) && statSync(p).isDirectory() && isTokenDir(p)));
      if (binary) {
        const splits = argv.split === 'all' ? SPLITS : [argv.split];
        for (const path of argv.inputs) for (const split of splits) await writeJsonl(decodeTokenShards(path, split, tokenizer), process.stdout);
        return;
      }
      await runPipeline('tokenize decode', argv, (docs, { rejects }) => decodeTokenRecords(docs, { tokenizer, rejects }));
    } finally {
      tokenizer.free();
    }
  },
};

function isTokenDir(dir: string): boolean {
  try {
    return readTokenManifest(dir) !== undefined;
  } catch {
    return false;
  }
}

const statsCommand: CommandModule<object, InputArgs & VocabArgs & { json: boolean; reference: string }> = {
  command: 'stats [inputs..]',
  describe: 'Bytes and characters per token, per language, against a reference vocabulary (cl100k)',
  builder: (yargs: Argv) =>
    withVocabOptions(withInputOptions(yargs))
      .option('reference', { type: 'string', default: 'cl100k', describe: 'Vocabulary to compare with (same choices as --vocab)' })
      .option('json', { type: 'boolean', default: false, describe: 'One JSON object instead of a table' })
      .example('$0 tokenize stats zh.jsonl en.jsonl', 'table by language (the "lang" field, else a Han-script guess)')
      .example('$0 tokenize stats --vocab qwen.tiktoken --json docs.jsonl', 'Qwen\'s own vocabulary against cl100k') as unknown as Argv<never>,
  handler: async (argv) => {
    const tokenizer = Tokenizer.load(vocabSpec(argv), { nfc: argv.nfc });
    const reference = Tokenizer.load({ vocab: argv.reference }, { nfc: false });
    try {
      const report = await runWithInputs('tokenize stats', argv, async ({ docs }) => {
        const stats = new TokenStats();
        for await (const doc of docs) {
          if (typeof doc.text !== 'string') continue;
          stats.add(languageOf(doc.lang, doc.text), doc.text, tokenizer.encodeOrdinary(doc.text).length, reference.encodeOrdinary(doc.text).length);
        }
        return stats.report();
      });
      process.stdout.write(argv.json ? JSON.stringify({ vocab: argv.vocab, reference: argv.reference, languages: report }) + '\n' : formatStats(report, argv.vocab, argv.reference));
    } finally {
      tokenizer.free();
      reference.free();
    }
  },
};

const exportCommand: CommandModule<object, VocabArgs & { out: string; 'max-length': number; tiktoken: boolean; 'ids-for'?: string; quiet: boolean }> = {
  command: 'export',
  describe: 'Write a Hugging Face tokenizer.json + tokenizer_config.json for the vocabulary',
  builder: (yargs: Argv) =>
    withVocabOptions(yargs as Argv<object>)
      .option('out', { alias: 'o', type: 'string', demandOption: true, coerce: outputDirectory('--out'), describe: 'Directory (a checkpoint directory, say)' })
      .option('max-length', { type: 'number', default: 32_768, coerce: positiveInteger('--max-length'), describe: 'model_max_length in tokenizer_config.json' })
      .option('tiktoken', { type: 'boolean', default: false, describe: 'Also write vocab.tiktoken (the rank file)' })
      .option('ids-for', { type: 'string', describe: 'JSONL of {"text"} records: also write loom-ids.json (text and loom\'s ids) for scripts/verify-hf-tokenizer.py' })
      .example('$0 tokenize export -o ckpt/base', 'then AutoTokenizer.from_pretrained("ckpt/base")') as unknown as Argv<never>,
  handler: async (argv) => {
    const vocab = loadVocabulary(vocabSpec(argv));
    const files = exportHuggingFace(vocab, argv.out, { nfc: argv.nfc, maxLength: argv['max-length'] });
    if (argv.tiktoken) {
      const path = `${argv.out}/vocab.tiktoken`;
      writeFileSync(path, formatRanks(vocab.tokens), 'latin1');
      files.push(path);
    }
    if (argv['ids-for']) {
      const path = `${argv.out}/loom-ids.json`;
      const tokenizer = Tokenizer.load(vocabSpec(argv), { nfc: argv.nfc });
      try {
        const cases: { text: string; ids: number[] }[] = [];
        for await (const doc of readDocs([argv['ids-for']])) {
          if (typeof doc.text === 'string') cases.push({ text: doc.text, ids: Array.from(tokenizer.encodeOrdinary(doc.text)) });
        }
        writeFileSync(path, JSON.stringify(cases) + '\n');
      } finally {
        tokenizer.free();
      }
      files.push(path);
    }
    if (!argv.quiet) process.stderr.write(`loom tokenize export: wrote ${files.join(', ')}\n`);
  },
};

export const tokenizeCommand: CommandModule<object, EncodeArgs> = {
  command: 'tokenize [inputs..]',
  describe: 'Byte-level BPE (Qwen vocabulary on tiktoken): documents to binary token shards for pretraining, or token ids as JSONL',
  builder: (yargs: Argv) =>
    withVocabOptions(withOutputOptions(yargs))
      .command([trainCommand, decodeCommand, statsCommand, exportCommand] as CommandModule<object, never>[])
      .option('out', { type: 'string', describe: 'Directory for train-NNNNN.bin / val-NNNNN.bin token shards and manifest.json (--format jsonl: JSONL shards, sized by --shard-size); a rerun resumes' })
      .option('format', { choices: ['bin', 'jsonl'] as const, default: 'bin' as const, describe: 'bin: token shards in --out (see docs/tokenize.md); jsonl: each document with "tokens" instead of "text"' })
      .option('seq-len', { type: 'number', default: 2048, coerce: positiveInteger('--seq-len'), describe: 'Window length the shards are packed for (windows are seq-len+1 tokens: inputs and shifted targets)' })
      .option('val-fraction', { type: 'number', default: 0.005, coerce: fraction('--val-fraction'), describe: 'Share of documents (not tokens) held out as the validation split' })
      .option('shuffle-buffer', { type: 'number', default: 10_000, coerce: positiveInteger('--shuffle-buffer'), describe: 'Documents in the seeded shuffle buffer of each split (1: keep input order)' })
      .option('shard-tokens', { type: 'number', default: 100_000_000, coerce: positiveInteger('--shard-tokens'), describe: 'Tokens per shard, rounded to whole windows (bin format)' })
      .option('workers', { type: 'number', default: defaultWorkers, coerce: nonNegativeInteger('--workers'), describe: 'Encoding threads (ids do not depend on it; 0: encode in the main thread)' })
      .example('$0 langid docs.jsonl --langs zh,en | $0 tokenize --seq-len 2048 --out shards/', 'train/val token shards for `loom pretrain --data shards/`')
      .example('$0 tokenize docs.jsonl --format jsonl | head -1', 'ids per document')
      .example('$0 tokenize docs.jsonl --vocab qwen.tiktoken --out shards/', 'Qwen\'s own vocabulary: ids identical to Qwen\'s tokenizer')
      .epilogue('Subcommands: train, decode, stats, export. Shard format and vocabulary: docs/tokenize.md.') as unknown as Argv<EncodeArgs>,
  handler: async (argv) => {
    const encode = { workers: argv.workers, vocab: vocabSpec(argv), nfc: argv.nfc };
    if (argv.format === 'jsonl') {
      await runPipeline('tokenize', argv, (docs, { rejects }) => tokenizeDocs(docs, { ...encode, rejects }));
      return;
    }
    if (!argv.out) throw new UsageError('tokenize writes binary token shards into a directory: give --out DIR (or --format jsonl for ids on stdout)');
    const out = argv.out;
    const seqLen = argv['seq-len'];
    await runWithInputs('tokenize', argv, async ({ docs, rejects, watch, written }) => {
      const config = resolvedConfig({ ...argv, workers: undefined, 'shard-size': undefined, compression: undefined });
      const inputs = (await resolveInputs(argv.inputs)).map((source) => {
        if (source.name === '<stdin>') return { path: '-' };
        const stat = statSync(source.name);
        return { path: source.name, bytes: stat.size, mtime: stat.mtime.toISOString() };
      });
      const stopReportingInterrupts = reportInterrupts('tokenize', out);
      const { stage, done } = packTokens(docs, {
        ...encode,
        out,
        seqLen,
        valFraction: argv['val-fraction'],
        shuffleBuffer: argv['shuffle-buffer'],
        windowsPerShard: Math.max(1, Math.floor(argv['shard-tokens'] / seqLen)),
        seed: argv.seed,
        rejects,
        run: { command: 'tokenize', config, inputs, fingerprint: runFingerprint('tokenize', config, inputs) },
      });
      watch(stage);
      const result = await done.finally(stopReportingInterrupts);
      written.records = result.manifest.counts.documents ?? 0;
      if (argv.quiet) return;
      if (result.alreadyComplete) process.stderr.write(`loom tokenize: ${out} is already complete; nothing to do\n`);
      else {
        if (result.resumedShards > 0) process.stderr.write(`loom tokenize: resumed after ${result.resumedShards} finished shards\n`);
        const { train, val } = result.manifest.splits;
        process.stderr.write(`loom tokenize: ${out}: train ${train.tokens} tokens (${train.windows} windows of ${seqLen}), val ${val.tokens} tokens (${val.windows} windows)\n`);
      }
    });
  },
};
