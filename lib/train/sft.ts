// Supervised fine-tuning: chat records rendered in ChatML, loss on the tokens the policy names
// (lib/chat/sft-examples.ts), conversations packed into rows with attention kept inside each, on
// the shared training loop with the next-token objective. The weights start from a checkpoint
// (`--init`); --resume continues a run from its own checkpoint.
import type { ChatFormat } from '../chat/formats.js';
import { chatMessages } from '../chat/formats.js';
import { packExamples, type PackedRow } from '../chat/pack.js';
import { encodeSftExample, type LossPolicy } from '../chat/sft-examples.js';
import { DataError } from '../errors.js';
import { objectiveLoss } from '../eval/loss.js';
import type { Doc } from '../io/types.js';
import { parameterCount } from '../model/config.js';
import { checkpointVocabulary } from '../model/load.js';
import { withSystemPrompt } from '../chat/turns.js';
import { createEngine } from '../infer/engine.js';
import { DEFAULT_SAMPLING } from '../infer/types.js';
import type { Trunk } from '../model/trunk.js';
import { encodeChat } from '../tokenizer/chatml.js';
import { ENDOFTEXT, IM_END } from '../tokenizer/special.js';
import { Tokenizer } from '../tokenizer/tokenizer.js';
import { vocabularySize } from '../tokenizer/vocabulary.js';
import { createRandom } from '../util/random.js';
import { ExampleSource, readExamples, splitExamples } from './examples.js';
import { round } from './metrics.js';
import { nextTokenObjective } from './next-token.js';
import { packedBatch } from './packed-source.js';
import { scaleRecipe, type Recipe } from './presets.js';
import { fineTuneLoop, fineTuneModel, planSteps, startFineTune, type FineTuneRun, type FineTuneSettings, type FineTuneStart } from './fine-tune.js';

/** What defines a fine-tuning run; trainer_state.json keeps it for --resume. */
export interface SftSettings extends FineTuneSettings {
  /** Rows per micro-batch (per rank). */
  batch: number;
  /** Rows per optimizer step across ranks; accumulation makes up the difference. */
  batchRows: number;
  dropout: number;
  loss: LossPolicy;
  pack: boolean;
  format: ChatFormat;
  systemPrompt: string;
  valFraction: number;
}

/** The settings the recipe scales to the model and the data; given only where a flag set them. */
type Scaled = 'lr' | 'warmup' | 'batchRows';

export type SftOptions = Omit<FineTuneRun<SftSettings>, 'settings'> & {
  settings: Omit<SftSettings, 'steps' | Scaled> & Partial<Pick<SftSettings, Scaled>>;
  /** The preset that fills lr, warmup, rows a step and the run's length where settings and flags leave them (scaleRecipe). */
  recipe: Recipe;
  /** Prompts the model answers at each evaluation (greedy), in the metrics and the log. */
  samplePrompts?: readonly string[];
};

export interface SftResult {
  steps: number;
  lastLoss: number;
  valLoss?: number;
  interrupted?: string;
  tokensPerSecond: number;
  /** Conversations kept, held out and dropped; packed rows; loss-bearing tokens in the train rows. */
  examples: { train: number; val: number; dropped: number; rows: number; lossTokens: number };
  device: string;
}

export async function sft(o: SftOptions): Promise<SftResult> {
  const start = startFineTune<SftSettings>('fine-tune', o);
  const { from } = start;
  if (from.head !== 'lm') throw new DataError(`${from.dir}: a ${from.head} model has no LM head to fine-tune`);

  const tokenizer = new Tokenizer(checkpointVocabulary(from), { nfc: from.info.nfc });
  try {
    return await fineTune(o, start, tokenizer);
  } finally {
    tokenizer.free();
  }
}

/** Reads and packs the conversations with the checkpoint's tokenizer (which also renders the samples), then trains. */
async function fineTune(o: SftOptions, start: FineTuneStart<SftSettings>, tokenizer: Tokenizer): Promise<SftResult> {
  const { world } = o;
  const { k, dtype, from, resumed, seed } = start;
  const data = await readConversations(o, resumed?.settings ?? o.settings, tokenizer, seed);
  const { train, val } = data;
  if (train.length === 0) throw new DataError(`${o.data.join(' ')}: no conversation to train on (${data.counts.dropped} dropped)`);

  // a resumed run keeps the settings it started with; a new one fills what flags left from the recipe
  const given = o.settings;
  const run = resumed ? undefined : scaleRecipe(o.recipe, { lr: given.lr, batch: given.batchRows, warmup: given.warmup, steps: o.steps, epochs: o.epochs }, { hiddenSize: from.config.hiddenSize, examples: train.length, unit: given.batch * world.size });
  const settings: SftSettings = run ? { ...given, lr: run.lr, warmup: run.warmup, batchRows: run.batch, steps: NaN } : { ...resumed!.settings };
  if (run && world.rank === 0) o.log(`sft: ${run.why}`);
  const plan = planSteps('sft', { wanted: settings.batchRows, batch: settings.batch, examples: train.length, steps: o.steps ?? run?.steps, epochs: o.epochs, resumedSteps: settings.steps, world, log: o.log });
  settings.steps = plan.steps;
  const { config, info, params, trunk } = fineTuneModel(start, settings, 'lm', settings.batch * settings.maxLen, o.freeze);
  const objective = nextTokenObjective(trunk, config.dropout);
  const stepTokens = plan.perStep * settings.maxLen;
  const source = new ExampleSource(train, seed, { batch: settings.batch, accum: plan.accum, world }, packedBatch, stepTokens, resumed?.position ?? 0);
  const valBatches = Array.from({ length: Math.ceil(val.length / settings.batch) }, (_, i) => packedBatch(padRows(val.slice(i * settings.batch, (i + 1) * settings.batch), settings.batch)));

  if (world.rank === 0)
    o.log(
      `sft: ${(parameterCount(config) / 1e6).toFixed(1)}M parameters from ${from.dir} on ${k.device} (${k.name}), ${dtype}; ` +
        `${data.counts.train} conversations in ${train.length} rows of ${settings.maxLen} (${settings.pack ? 'packed' : 'padded'}; ${data.counts.lossTokens} loss-bearing tokens), ${data.counts.val} held out, ${data.counts.dropped} dropped; ` +
        `${plan.perStep} rows/step; steps ${resumed?.step ?? 0}→${settings.steps}`,
    );
  const result = await fineTuneLoop(start, { ...o, settings }, {
    params,
    config,
    info,
    head: 'lm',
    settings,
    source,
    objective,
    evaluate:
      valBatches.length > 0
        ? async () => {
            const r = objectiveLoss(k, objective, valBatches);
            const samples = await sampleAnswers(trunk, tokenizer, o.samplePrompts ?? [], settings);
            for (const s of samples) o.log(`sft: sample: ${JSON.stringify(s.prompt)} → ${JSON.stringify(s.answer)}`);
            return { val_loss: round(r.loss), val_ppl: round(Math.exp(r.loss)), val_tokens: r.tokens, ...(samples.length > 0 && { samples }) };
          }
        : undefined,
  });
  return { ...result, examples: data.counts, device: `${k.device} (${k.name})` };
}

/**
 * Reads, renders and packs every conversation; a record that is no conversation, or too long to
 * keep, is dropped with its reason. Held-out records are chosen by a seeded draw per record.
 */
async function readConversations(o: SftOptions, s: SftOptions['settings'], tokenizer: Tokenizer, seed: number) {
  const encode = (doc: Doc) => {
    const messages = chatMessages(doc, s.format);
    return typeof messages === 'string' ? { drop: messages } : encodeSftExample(tokenizer, messages, { maxLen: s.maxLen, loss: s.loss, systemPrompt: s.systemPrompt });
  };
  const read = { onError: o.onError, rejects: o.rejects, log: o.log, stage: 'sft' };
  const main = await readExamples(o.data, encode, read);
  const held = o.valData ? await readExamples(o.valData, encode, read) : undefined;
  const { train, val } = held ? { train: main.examples, val: held.examples } : splitExamples(main.examples, s.valFraction, createRandom(seed ^ 0x5f7));
  let lossTokens = 0;
  for (const e of train) for (let t = 1; t < e.lossMask.length; t++) lossTokens += e.lossMask[t]!;
  const padId = tokenizer.vocab.specials[ENDOFTEXT]!;
  const rows = packExamples(train, s.maxLen, { pack: s.pack, padId });
  const counts = { train: train.length, val: val.length, dropped: main.dropped + (held?.dropped ?? 0), rows: rows.length, lossTokens };
  return { train: rows, val: packExamples(val, s.maxLen, { pack: s.pack, padId }), counts };
}

/** Greedy answers of the model to fixed prompts (what a fine-tuning run shows at each evaluation), through the generate engine. */
async function sampleAnswers(trunk: Trunk, tokenizer: Tokenizer, prompts: readonly string[], s: SftSettings): Promise<{ prompt: string; answer: string }[]> {
  if (prompts.length === 0) return [];
  const stopTokens = [tokenizer.vocab.specials[IM_END]!, tokenizer.vocab.specials[ENDOFTEXT]!];
  const encoded = prompts.map((prompt) => Int32Array.from(encodeChat(tokenizer, withSystemPrompt([{ role: 'user', content: prompt }], s.systemPrompt), { addGenerationPrompt: true }).ids));
  const maxNew = 48;
  const longest = Math.max(...encoded.map((ids) => ids.length));
  // graphs off: the trainer's stream and arena stay as they are; the trunk's arena is reused
  const engine = createEngine({ k: trunk.k, weights: trunk.weights, trunk }, { maxBatch: prompts.length, contextLength: longest + maxNew + 1, graphs: false, vocabIds: vocabularySize(tokenizer.vocab) });
  try {
    const outs = await Promise.all(encoded.map((prompt) => engine.submit({ prompt, params: { ...DEFAULT_SAMPLING, temperature: 0, maxNew, stopTokens } })));
    return outs.map((out, i) => ({ prompt: prompts[i]!, answer: tokenizer.decode(out.tokens) }));
  } finally {
    engine.close();
  }
}

/** Fills a last, short batch with rows that bear no loss, so every pass has one shape. */
function padRows(rows: PackedRow[], n: number): PackedRow[] {
  if (rows.length === n || rows.length === 0) return rows;
  const T = rows[0]!.ids.length;
  const empty: PackedRow = { ids: new Int32Array(T), targets: new Int32Array(T).fill(-1), positions: Int32Array.from({ length: T }, (_, i) => i), segments: [T] };
  return [...rows, ...Array.from({ length: n - rows.length }, () => empty)];
}
