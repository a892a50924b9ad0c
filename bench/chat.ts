// Latency of `loom chat`: from submitting a user turn (Enter) to the first streamed token, and the
// tokens/s of the answer, turn after turn of one conversation, through the same ChatSession the
// screen and the pipe mode drive (each turn prefills what the engine's cache does not hold).
//
//   node --import tsx bench/chat.ts --checkpoint CKPT [--device cuda] [--turns 6 --max-new 128 --context 2048]
//   node --import tsx bench/chat.ts --preset bench318m --device cuda [--keep DIR]
//     a random-weights checkpoint of the preset (bf16 safetensors, loom's vocabulary) is written to
//     a temporary directory (or DIR, reused when it exists) and timed like a trained one; random
//     weights seldom end a turn, so each answer runs to --max-new.
//     one JSON line: per turn the prompt tokens, ms to the first token and tokens/s; the first
//     turn (cold: kernel plans, graph recording) apart, the median of the others.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBackend } from '../kernels/index.js';
import { DEFAULT_SYSTEM_PROMPT } from '../lib/chat/turns.js';
import { openEngine, resolveStopTokens } from '../lib/cli/generate.js';
import { ChatSession } from '../lib/infer/chat-session.js';
import { readCheckpoint, saveCheckpoint, type LoomModelInfo } from '../lib/model/checkpoint.js';
import { resolveConfig } from '../lib/model/config.js';
import { checkpointVocabulary } from '../lib/model/load.js';
import { initialValues, parameterSpecs } from '../lib/model/params.js';
import { Weights } from '../lib/model/weights.js';
import { ENDOFTEXT } from '../lib/tokenizer/special.js';
import { Tokenizer } from '../lib/tokenizer/tokenizer.js';
import { loadVocabulary, vocabularyHash, vocabularySize } from '../lib/tokenizer/vocabulary.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1]! : fallback);
const device = flag('device', 'auto');
const turns = Number(flag('turns', '6'));
const maxNew = Number(flag('max-new', '128'));

const QUESTIONS = [
  'What is the capital of France, and why did it become the capital?',
  'Explain in two sentences how a transformer language model predicts the next word.',
  'Write a haiku about the sea at night.',
  'What is 17 times 23? Show your steps.',
  'Give me three tips for writing clear technical documentation.',
  'Summarize our conversation so far in one sentence.',
];

/** A checkpoint of `preset` with seeded random weights and loom's vocabulary, written once into `dir`. */
function randomCheckpoint(preset: string, dir: string): string {
  if (existsSync(join(dir, 'config.json'))) return dir;
  const vocab = loadVocabulary();
  const ids = vocabularySize(vocab);
  const config = resolveConfig(preset, {}, ids);
  const weights = new Weights(openBackend('cpu'), parameterSpecs(config), 'f32');
  weights.assign(initialValues(config, weights.specs, 1));
  const info: LoomModelInfo = { vocab_hash: vocabularyHash(vocab), vocab: 'default', vocab_ids: ids, eot: vocab.specials[ENDOFTEXT]!, nfc: true, preset, dropout: 0, init_std: config.initStd };
  saveCheckpoint(dir, weights, config, info, { vocab, dtype: 'bf16' });
  return dir;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

const preset = flag('preset', 'bench318m');
const temporary = args.includes('--checkpoint') || args.includes('--keep') ? undefined : mkdtempSync(join(tmpdir(), 'loom-bench-chat-'));
try {
  const path = args.includes('--checkpoint') ? flag('checkpoint', '') : randomCheckpoint(preset, flag('keep', join(temporary ?? '', 'ckpt')));
  const ckpt = readCheckpoint(path);
  const contextLength = Number(flag('context', String(ckpt.config.seqLen)));
  const tokenizer = new Tokenizer(checkpointVocabulary(ckpt), { nfc: ckpt.info.nfc });
  const loadStarted = performance.now();
  const engine = openEngine(ckpt, { device, maxBatch: 1, contextLength });
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  const settings = { maxNew, temperature: 0.7, topP: 0.8, topK: 20, repetitionPenalty: 1.05, seed: 0 };
  const session = new ChatSession({ engine, tokenizer, stopTokens: resolveStopTokens(undefined, tokenizer, ckpt), system: DEFAULT_SYSTEM_PROMPT, settings });
  const perTurn: { prompt_tokens: number; cached_tokens: number; first_token_ms: number; tokens: number; tokens_per_s: number; left_out: number }[] = [];
  for (let turn = 0; turn < turns; turn++) {
    const answer = await session.send(QUESTIONS[turn % QUESTIONS.length]!);
    perTurn.push({ prompt_tokens: answer.promptTokens, cached_tokens: answer.cachedTokens ?? 0, first_token_ms: round(answer.firstTokenMs ?? NaN), tokens: answer.tokens, tokens_per_s: round(answer.tokensPerSecond ?? NaN), left_out: answer.leftOut });
  }
  engine.close();
  tokenizer.free();
  const warm = perTurn.slice(1);
  console.log(
    JSON.stringify({
      bench: 'chat',
      checkpoint: args.includes('--checkpoint') ? path : `random ${preset}`,
      device: openBackend(device).device,
      context: contextLength,
      max_new: maxNew,
      load_s: round(loadSeconds, 2),
      first_token_ms_cold: perTurn[0]?.first_token_ms,
      first_token_ms_median: round(median(warm.map((t) => t.first_token_ms))),
      tokens_per_s_median: round(median(warm.map((t) => t.tokens_per_s))),
      turns: perTurn,
    }),
  );
} finally {
  if (temporary) rmSync(temporary, { recursive: true, force: true });
}
