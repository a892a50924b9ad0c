// Hugging Face import: a byte-level BPE tokenizer.json (Qwen2's, or one loom exported) read as
// loom's vocabulary. model.vocab's byte-level strings become token bytes by id, added_tokens the
// special tokens, the pre-tokenizer's Split regex the pattern, an NFC normalizer `nfc`.
//
// loom's BPE (tiktoken) merges by token id, lowest first, where tokenizers follows the merges
// list: the two agree when the merges come in the order of the ids they make, as tiktoken-derived
// tokenizers (Qwen's, loom's own export) list them. Any other order is refused, since loom would
// split words differently from the file's owner.
import { readFileSync } from 'node:fs';
import { DataError } from '../errors.js';
import { byteToUnicode } from './hf.js';
import { toJsRegExp } from './pattern.js';

export interface HfVocabulary {
  /** Regular token bytes by id. */
  tokens: Uint8Array[];
  specials: Record<string, number>;
  pattern: string;
  /** The normalizer is NFC (else none). */
  nfc: boolean;
}

interface TokenizerFile {
  added_tokens?: { id: number; content: string }[];
  normalizer?: { type?: string } | null;
  pre_tokenizer?: { type?: string; pretokenizers?: { type?: string; pattern?: { Regex?: string }; behavior?: string; invert?: boolean; use_regex?: boolean }[] } | null;
  model?: { type?: string; vocab?: Record<string, number>; merges?: (string | [string, string])[]; byte_fallback?: boolean; continuing_subword_prefix?: string | null; end_of_word_suffix?: string | null };
}

export function readTokenizerJson(path: string): HfVocabulary {
  let json: TokenizerFile;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new DataError(`${path}: unreadable tokenizer: ${(err as Error).message}`);
  }
  const bad = (field: string, why: string): never => {
    throw new DataError(`${path}: ${field}: ${why}; loom reads byte-level BPE tokenizers (Qwen2's)`);
  };
  const model = json.model;
  if (model?.type !== 'BPE') bad('model.type', `${JSON.stringify(model?.type)}, not BPE`);
  if (model!.byte_fallback) bad('model.byte_fallback', 'true');
  if (model!.continuing_subword_prefix || model!.end_of_word_suffix) bad('model', 'subword prefixes or suffixes');
  if (!model!.vocab || typeof model!.vocab !== 'object') bad('model.vocab', 'missing');

  const specials: Record<string, number> = {};
  for (const [i, added] of (json.added_tokens ?? []).entries()) {
    if (typeof added?.content !== 'string' || !Number.isInteger(added.id)) bad(`added_tokens[${i}]`, 'no content or id');
    specials[added.content] = added.id;
  }
  const tokens = regularTokens(model!.vocab!, specials, bad);
  checkMergeOrder(model!.merges ?? [], model!.vocab!, bad);
  return { tokens, specials, pattern: splitPattern(json.pre_tokenizer, bad), nfc: normalizerIsNfc(json.normalizer, bad) };
}

type Bad = (field: string, why: string) => never;

/** model.vocab as token bytes by id 0…n-1 (an added token listed there too is left to the specials). */
function regularTokens(vocab: Record<string, number>, specials: Record<string, number>, bad: Bad): Uint8Array[] {
  const byteOf = new Map(byteToUnicode().map((c, b) => [c, b]));
  const tokens: Uint8Array[] = [];
  for (const [text, id] of Object.entries(vocab)) {
    if (specials[text] === id) continue;
    if (!Number.isInteger(id) || id < 0) bad(`model.vocab[${JSON.stringify(text)}]`, `id ${id}`);
    if (tokens[id]) bad(`model.vocab[${JSON.stringify(text)}]`, `id ${id} is used twice`);
    const bytes = new Uint8Array(text.length);
    let n = 0;
    for (const c of text) {
      const b = byteOf.get(c);
      if (b === undefined) bad(`model.vocab[${JSON.stringify(text)}]`, `${JSON.stringify(c)} is no byte-level character`);
      bytes[n++] = b!;
    }
    tokens[id] = bytes.subarray(0, n);
  }
  for (let id = 0; id < tokens.length; id++) if (!tokens[id]) bad('model.vocab', `no token has id ${id} (ids must run 0…${tokens.length - 1})`);
  return tokens;
}

/** Each merge makes a token whose id is no lower than the previous merge's. */
function checkMergeOrder(merges: (string | [string, string])[], vocab: Record<string, number>, bad: Bad): void {
  let last = -1;
  for (const [i, merge] of merges.entries()) {
    const [left, right] = typeof merge === 'string' ? merge.split(' ') : merge;
    const id = vocab[`${left}${right}`];
    if (left === undefined || right === undefined || id === undefined) bad(`model.merges[${i}]`, `${JSON.stringify(merge)} makes no token of the vocabulary`);
    if (id! < last) bad(`model.merges[${i}]`, `${JSON.stringify(merge)} makes id ${id} after a merge that made ${last}: the merges are not in id order, so loom's BPE would split words differently`);
    last = id!;
  }
}

/** The regex of a Sequence [Split(Regex, Isolated), ByteLevel(use_regex false)]. */
function splitPattern(pre: TokenizerFile['pre_tokenizer'], bad: Bad): string {
  const [split, byteLevel, ...rest] = pre?.type === 'Sequence' ? (pre.pretokenizers ?? []) : [];
  const pattern = split?.pattern?.Regex;
  if (split?.type !== 'Split' || typeof pattern !== 'string' || split.behavior !== 'Isolated' || split.invert || byteLevel?.type !== 'ByteLevel' || byteLevel.use_regex || rest.length > 0)
    bad('pre_tokenizer', 'not a Split regex (Isolated) followed by ByteLevel without its own regex');
  try {
    toJsRegExp(pattern!);
  } catch (err) {
    bad('pre_tokenizer', `the Split regex does not compile: ${(err as Error).message}`);
  }
  return pattern!;
}

function normalizerIsNfc(normalizer: TokenizerFile['normalizer'], bad: Bad): boolean {
  if (normalizer === null || normalizer === undefined) return false;
  if (normalizer.type === 'NFC') return true;
  return bad('normalizer', `${JSON.stringify(normalizer.type)} (loom applies NFC or nothing)`);
}
