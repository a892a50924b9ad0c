// A vocabulary: regular tokens by rank, special tokens, the pre-tokenization pattern, and a hash
// that names exactly this combination (written into shards so pretrain can refuse a mismatch).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DataError, UsageError } from '../errors.js';
import { PACKAGE_ROOT } from '../version.js';
import { readTokenizerJson } from './hf-read.js';
import { QWEN_PATTERN, CL100K_PATTERN } from './pattern.js';
import { cl100kRanks, qwenBaseTokens, readRankFile } from './ranks.js';
import { qwenSpecialTokens, ENDOFTEXT } from './special.js';

export interface Vocabulary {
  /** Where it came from: `default`, `cl100k`, or a file path. */
  name: string;
  /** Regular token bytes by rank (= id). */
  tokens: Uint8Array[];
  specials: Record<string, number>;
  pattern: string;
  /** The rank file's text when loaded from one (spares re-serializing it for tiktoken). */
  rankText?: string;
  /** Whether a Hugging Face tokenizer.json it was read from normalizes to NFC. */
  nfc?: boolean;
}

/** The vocabulary loom ships: built by `npm run build:vocab` (scripts/build-vocab.ts). */
export const DEFAULT_VOCAB_FILE = join(PACKAGE_ROOT, 'vocab', 'loom-151k.tiktoken.gz');

export interface VocabularySpec {
  /**
   * `default` (shipped), `cl100k`, `base` (cl100k without multi-digit tokens: what the default
   * extends), a `.tiktoken` file (optionally .gz), or a Hugging Face `tokenizer.json` (a `.json` file).
   */
  vocab?: string;
  /** JSON `{"<|endoftext|>": id, …}`; default: Qwen's layout after the regular tokens. */
  specialTokens?: string;
  /** Pre-tokenization pattern; default Qwen's (cl100k's for `cl100k`). */
  pattern?: string;
}

const BUILT_IN = new Set(['default', 'cl100k', 'base']);

/** Whether `name` (a built-in name or a file) can be loaded here. */
export function vocabularyAvailable(name: string): boolean {
  return BUILT_IN.has(name) || existsSync(name);
}

/** Loaded vocabularies by spec and file identity: a run that loads one twice parses it once. */
const loaded = new Map<string, Vocabulary>();

export function loadVocabulary(spec: VocabularySpec = {}): Vocabulary {
  const key = JSON.stringify([spec.vocab, spec.specialTokens, spec.pattern].map(fileIdentity));
  let vocab = loaded.get(key);
  if (!vocab) {
    vocab = readVocabulary(spec);
    loaded.set(key, vocab);
  }
  return vocab;
}

function fileIdentity(path: string | undefined): string | undefined {
  if (!path || !existsSync(path)) return path;
  const stat = statSync(path);
  return `${path}:${stat.size}:${stat.mtimeMs}`;
}

function readVocabulary(spec: VocabularySpec): Vocabulary {
  const name = spec.vocab ?? 'default';
  let tokens: Uint8Array[];
  let specials: Record<string, number>;
  let pattern = QWEN_PATTERN;
  let rankText: string | undefined;
  let nfc: boolean | undefined;
  if (name === 'cl100k') {
    ({ tokens, specials } = cl100kRanks());
    specials = { ...specials };
    pattern = CL100K_PATTERN;
  } else if (name === 'base') {
    tokens = qwenBaseTokens();
    specials = qwenSpecialTokens(tokens.length);
  } else if (name.endsWith('.json')) {
    if (!existsSync(name)) throw new UsageError(`--vocab: no such file ${name}`);
    ({ tokens, specials, pattern, nfc } = readTokenizerJson(name));
  } else {
    const file = name === 'default' ? DEFAULT_VOCAB_FILE : name;
    if (!existsSync(file)) {
      throw new UsageError(name === 'default' ? `the default vocabulary ${file} is missing; run \`npm run build:vocab\`` : `--vocab: no such file ${file}`);
    }
    ({ tokens, text: rankText } = readRankFile(file));
    specials = qwenSpecialTokens(tokens.length);
  }
  if (spec.specialTokens) specials = readSpecialTokens(spec.specialTokens);
  if (spec.pattern) pattern = spec.pattern;
  checkSpecials(specials, tokens.length, spec.specialTokens ?? name);
  return { name, tokens, specials, pattern, rankText, ...(nfc === undefined ? {} : { nfc }) };
}

function readSpecialTokens(path: string): Record<string, number> {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new DataError(`${path}: cannot read special tokens: ${(err as Error).message}`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value) || !Object.values(value).every((id) => Number.isInteger(id))) {
    throw new DataError(`${path}: expected a JSON object of token text to integer id`);
  }
  return value as Record<string, number>;
}

function checkSpecials(specials: Record<string, number>, regular: number, source: string): void {
  if (!(ENDOFTEXT in specials)) throw new DataError(`${source}: special tokens must include ${ENDOFTEXT}`);
  const seen = new Set<number>();
  for (const [text, id] of Object.entries(specials)) {
    if (id < regular) throw new DataError(`${source}: special token ${text} has id ${id}, inside the regular vocabulary (0…${regular - 1})`);
    if (seen.has(id)) throw new DataError(`${source}: special token id ${id} is used twice`);
    seen.add(id);
  }
}

/** Ids run 0…size-1 (regular tokens, then specials, with gaps where a layout leaves them). */
export function vocabularySize(vocab: Vocabulary): number {
  return Math.max(vocab.tokens.length, ...Object.values(vocab.specials).map((id) => id + 1));
}

/** Hashes by vocabulary object: a run asks for the same one's hash several times (~35 ms each). */
const hashes = new WeakMap<Vocabulary, string>();

/** sha256 of the pattern, the special tokens (by id) and every token's bytes in rank order. */
export function vocabularyHash(vocab: Vocabulary): string {
  let digest = hashes.get(vocab);
  if (!digest) hashes.set(vocab, (digest = computeVocabularyHash(vocab)));
  return digest;
}

function computeVocabularyHash(vocab: Vocabulary): string {
  const hash = createHash('sha256');
  hash.update(`loom.vocab/1\n${vocab.pattern}\n`);
  const specials = Object.entries(vocab.specials).sort((a, b) => a[1] - b[1]);
  hash.update(JSON.stringify(specials) + '\n');
  const length = Buffer.alloc(4);
  for (const token of vocab.tokens) {
    length.writeUInt32LE(token.length);
    hash.update(length);
    hash.update(token);
  }
  return hash.digest('hex');
}
