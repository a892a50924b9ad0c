// `loom generate` glue: finds the prompts (lib/infer/prompt-input.ts), opens the checkpoint, its
// tokenizer and the engine, and runs the generate stage (lib/infer/generate-records.ts) either
// into JSONL records (stdout or --out shards, as every stage) or as plain text streamed to stdout.
import { DataError, UsageError } from '../errors.js';
import { createEngine, type Engine } from '../infer/engine.js';
import { generateRecords, type GenerateRecordsOptions } from '../infer/generate-records.js';
import { generationDefaults } from '../infer/generation-defaults.js';
import { OrderedText } from '../infer/ordered-text.js';
import { argumentPrompts, inputPrompts, splitPromptWords, type InputFormat } from '../infer/prompt-input.js';
import { toolsFromFlags, type ToolArgs } from '../infer/tools/flags.js';
import { DEFAULT_SAMPLING, type SamplingParams } from '../infer/types.js';
import type { RejectSink } from '../io/rejects.js';
import type { Doc } from '../io/types.js';
import { readCheckpoint, type LoadedCheckpoint } from '../model/checkpoint.js';
import { activeLongContext, type LongContextSwitches } from '../model/config.js';
import { checkpointVocabulary, loadModel } from '../model/load.js';
import type { StageRun } from '../stage.js';
import { stopTokenIds } from '../tokenizer/hf.js';
import { Tokenizer } from '../tokenizer/tokenizer.js';
import { formatCount } from '../ui/format.js';
import type { OutputArgs } from './options.js';
import { runPipeline, runWithInputs } from './pipeline.js';

/** The flags of `loom generate` (declared in commands/generate.ts). */
export interface GenerateArgs extends OutputArgs, ToolArgs {
  checkpoint: string;
  device: string;
  'max-batch': number;
  'batch-invariant': boolean;
  'max-len'?: number;
  'max-new-tokens': number;
  temperature?: number;
  'top-k'?: number;
  'top-p'?: number;
  'repetition-penalty'?: number;
  stop?: string[];
  'stop-token'?: string[];
  n: number;
  logprobs: boolean;
  json?: boolean;
  system: string;
  chat: boolean;
  truncate: 'none' | 'left';
  'input-format': InputFormat;
  /** Long-context switches (commands/eval.ts LONG_CONTEXT_FLAGS); absent: on beyond the training length. */
  'dynamic-ntk'?: boolean;
  logn?: boolean;
  windows?: boolean | number[];
}

/** Samples held between submission and output, per sequence the engine decodes at once. */
const WINDOW_PER_SLOT = 4;
/** Most prompt tokens one prefill pass takes (the engine prefills longer prompts in chunks): bounds the trunk's arena. */
const PREFILL_TOKENS = 8192;

export async function runGenerate(argv: GenerateArgs): Promise<void> {
  const words = splitPromptWords(argv.inputs);
  if ('prompts' in words && argv.out) throw new UsageError('--out writes the records of input files; with prompts on the command line, use --json and redirect stdout');
  const source = 'prompts' in words ? argumentPrompts(words.prompts) : await inputPrompts(words.inputs, argv['input-format']);
  const json = argv.json ?? (source.jsonl || argv.out !== undefined);
  if (!json && argv.out) throw new UsageError('--out writes JSONL records: it cannot go with --no-json');
  const tools = await toolsFromFlags(argv);
  const ckpt = readCheckpoint(argv.checkpoint);
  if (ckpt.head !== 'lm') throw new DataError(`${argv.checkpoint}: not a language model (its head is ${ckpt.head}); generate needs a Qwen2ForCausalLM checkpoint`);
  const contextLength = argv['max-len'] ?? ckpt.config.seqLen;
  if (contextLength > ckpt.config.seqLen && !argv.quiet)
    process.stderr.write(`loom generate: warning: --max-len ${contextLength} is beyond the ${ckpt.config.seqLen} positions the model was trained on (max_position_embeddings); ${longContextNote(ckpt, contextLength, argv)}\n`);
  const tokenizer = new Tokenizer(checkpointVocabulary(ckpt), { nfc: ckpt.info.nfc });
  try {
    const options: Omit<GenerateRecordsOptions, 'engine'> = {
      tokenizer,
      sampling: {
        maxNew: argv['max-new-tokens'],
        ...flagSampling(argv, ckpt.dir),
        stopTokens: resolveStopTokens(argv['stop-token'], tokenizer, ckpt),
      },
      n: argv.n,
      seed: argv.seed,
      stops: argv.stop ?? [],
      logprobs: argv.logprobs,
      truncate: argv.truncate,
      onError: argv['on-error'],
      window: WINDOW_PER_SLOT * argv['max-batch'],
      systemPrompt: argv.system,
      chat: argv.chat,
      tools,
    };
    const engine = openEngine(ckpt, { device: argv.device, maxBatch: argv['max-batch'], contextLength, longContext: longContextFlags(argv), batchInvariant: argv['batch-invariant'] });
    try {
      const started = performance.now();
      let stage: StageRun | undefined;
      const generate = (docs: AsyncIterable<Doc>, rejects: RejectSink | undefined, onText?: GenerateRecordsOptions['onText']) =>
        (stage = generateRecords(docs, { ...options, engine, rejects, onText }));
      if (json) await runPipeline('generate', argv, (docs, { rejects }) => generate(docs, rejects), source);
      else {
        const text = new OrderedText((s) => process.stdout.write(s));
        await runWithInputs(
          'generate',
          argv,
          async ({ docs, rejects, written, watch }) => {
            const run = generate(docs, rejects, text.add);
            watch(run);
            for await (const _ of run) written.records += 1;
          },
          source,
        );
      }
      if (!argv.quiet && stage) process.stderr.write(`loom generate: ${generationSummary(stage, (performance.now() - started) / 1000)}\n`);
    } finally {
      engine.close();
    }
  } finally {
    tokenizer.free();
  }
}

/** The sampling flags `generate` and `chat` share. */
export type SamplingFlags = Pick<GenerateArgs, 'temperature' | 'top-k' | 'top-p' | 'repetition-penalty'>;

/** Each setting from its flag, else the checkpoint's generation_config.json, else vLLM's defaults. */
export function flagSampling(argv: SamplingFlags, checkpointDir: string): Pick<SamplingParams, 'temperature' | 'topK' | 'topP' | 'repetitionPenalty'> {
  const recommended = generationDefaults(checkpointDir);
  return {
    temperature: argv.temperature ?? recommended.temperature ?? DEFAULT_SAMPLING.temperature,
    topK: argv['top-k'] ?? recommended.topK ?? DEFAULT_SAMPLING.topK,
    topP: argv['top-p'] ?? recommended.topP ?? DEFAULT_SAMPLING.topP,
    repetitionPenalty: argv['repetition-penalty'] ?? recommended.repetitionPenalty ?? DEFAULT_SAMPLING.repetitionPenalty,
  };
}

/**
 * The checkpoint's weights on `device` under an engine of `maxBatch` sequences of `contextLength`
 * tokens, with the long-context means the context calls for (on beyond the training length unless switched).
 */
export function openEngine(ckpt: LoadedCheckpoint, o: { device: string; maxBatch: number; contextLength: number; longContext?: LongContextSwitches; batchInvariant?: boolean }): Engine {
  const capacity = Math.max(o.maxBatch, Math.min(o.maxBatch * o.contextLength, PREFILL_TOKENS));
  const longContext = activeLongContext(ckpt.config, o.contextLength, o.longContext);
  return createEngine(loadModel(ckpt, { device: o.device, capacity }), { maxBatch: o.maxBatch, contextLength: o.contextLength, longContext, vocabIds: ckpt.info.vocab_ids, batchInvariant: o.batchInvariant });
}

/** The long-context flags as switches. */
export function longContextFlags(argv: Pick<GenerateArgs, 'dynamic-ntk' | 'logn' | 'windows'>): LongContextSwitches {
  return { dynamicNtk: argv['dynamic-ntk'], logn: argv.logn, windows: argv.windows };
}

/** What the engine applies beyond the training length, for the warning: `extended with dynamic NTK, LogN, windows 128,256 (…)`. */
function longContextNote(ckpt: LoadedCheckpoint, contextLength: number, argv: GenerateArgs): string {
  const lc = activeLongContext(ckpt.config, contextLength, longContextFlags(argv));
  const on = lc ? [lc.ntk && 'dynamic NTK', lc.logn && 'LogN', lc.windows && `windows ${lc.windows.join(',')}`].filter(Boolean) : [];
  return on.length > 0 ? `extended with ${on.join(', ')} (docs/long-context.md)` : 'no long-context means are on';
}

/**
 * The ids that end a sequence: those given (ids, or special tokens by name), else the checkpoint's
 * end-of-sequence ids with <|im_end|> and <|endoftext|>.
 */
export function resolveStopTokens(given: readonly string[] | undefined, tokenizer: Tokenizer, ckpt: LoadedCheckpoint): number[] {
  if (!given) return [...new Set([...ckpt.eosIds, ...stopTokenIds(tokenizer.vocab)])];
  return given.map((spec) => {
    const id = /^\d+$/.test(spec) ? Number(spec) : tokenizer.vocab.specials[spec];
    if (id === undefined) throw new UsageError(`--stop-token ${JSON.stringify(spec)}: not a token id or a special token of vocabulary ${tokenizer.vocab.name} (${Object.keys(tokenizer.vocab.specials).slice(0, 3).join(', ')}, …)`);
    if (id >= ckpt.config.vocabSize) throw new UsageError(`--stop-token ${spec}: the model's ids end at ${ckpt.config.vocabSize - 1}`);
    return id;
  });
}

/** `24 samples · 3072 new tokens at 250 tokens/s · 10 stopped, 14 at length`. */
function generationSummary(stage: StageRun, seconds: number): string {
  const count = (key: string) => stage.counters.extra[key] ?? 0;
  const tokens = count('new tokens');
  const samples = count('stopped') + count('at length');
  const parts = [
    `${formatCount(samples)} ${samples === 1 ? 'sample' : 'samples'}`,
    `${formatCount(tokens)} new tokens at ${formatCount(Math.round(tokens / Math.max(seconds, 1e-9)))} tokens/s`,
    `${formatCount(count('stopped'))} stopped, ${formatCount(count('at length'))} at length`,
    ...(count('truncated') > 0 ? [`${formatCount(count('truncated'))} prompts truncated`] : []),
  ];
  return parts.join(' · ');
}
