// Hugging Face export: tokenizer.json (byte-level BPE with merges, Qwen's split regex, NFC) and
// tokenizer_config.json, so `AutoTokenizer.from_pretrained(dir)` gives loom's ids.
//
// tiktoken has ranks, not merges: it merges any adjacent pair whose concatenation is a token, the
// lowest-ranked first. A merges list reproduces that when every way of splitting a token into two
// tokens is listed, in the order of the token's rank. (The one case left: two overlapping
// candidates for the same token, e.g. a·aa·a → aaa, where tiktoken takes the leftmost and
// tokenizers the split listed first.)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENDOFTEXT, IM_END } from './special.js';
import type { Vocabulary } from './vocabulary.js';

/** GPT-2's printable stand-ins for bytes, as tokenizers' ByteLevel uses them. */
export function byteToUnicode(): string[] {
  const table: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table[b] = String.fromCodePoint(printable ? b : 256 + extra++);
  }
  return table;
}

/** Every split of each token into two tokens, in rank order: [left, right] as byte-level strings. */
export function mergesOf(vocab: Vocabulary): [string, string][] {
  const table = byteToUnicode();
  const latin = vocab.tokens.map((t) => Buffer.from(t).toString('latin1'));
  const ranks = new Map<string, number>();
  latin.forEach((s, rank) => ranks.set(s, rank));
  const show = (s: string) => Array.from(s, (c) => table[c.charCodeAt(0)]).join('');
  const merges: [string, string][] = [];
  for (const s of latin) {
    for (let cut = 1; cut < s.length; cut++) {
      const left = s.slice(0, cut);
      const right = s.slice(cut);
      if (ranks.has(left) && ranks.has(right)) merges.push([show(left), show(right)]);
    }
  }
  return merges;
}

export const CHATML_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

export function tokenizerJson(vocab: Vocabulary, opts: { nfc?: boolean } = {}): object {
  const table = byteToUnicode();
  const model: Record<string, number> = {};
  vocab.tokens.forEach((token, rank) => {
    model[Array.from(token, (b) => table[b]).join('')] = rank;
  });
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: Object.entries(vocab.specials)
      .sort((a, b) => a[1] - b[1])
      .map(([content, id]) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: opts.nfc === false ? null : { type: 'NFC' },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [{ type: 'Split', pattern: { Regex: vocab.pattern }, behavior: 'Isolated', invert: false }, byteLevel],
    },
    post_processor: byteLevel,
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      // A pre-token that is itself a token is taken whole, as tiktoken does (tokenizers ≥ 0.19).
      ignore_merges: true,
      vocab: model,
      merges: mergesOf(vocab).map(([a, b]) => `${a} ${b}`),
    },
  };
}

/** The end-of-sequence token tokenizer_config.json names, whose id config.json gives: <|im_end|> when there is one. */
export function eosToken(vocab: Vocabulary): string {
  return vocab.specials[IM_END] !== undefined ? IM_END : ENDOFTEXT;
}

/** The ids generation stops at: <|im_end|> (a chat turn's end) and <|endoftext|>, those the vocabulary has. */
export function stopTokenIds(vocab: Vocabulary): number[] {
  return [IM_END, ENDOFTEXT].filter((t) => vocab.specials[t] !== undefined).map((t) => vocab.specials[t]!);
}

/** generation_config.json: what transformers' generate stops at and pads with (as Qwen2-Instruct's). */
export function generationConfig(vocab: Vocabulary): object {
  const eot = vocab.specials[ENDOFTEXT]!;
  return { bos_token_id: eot, eos_token_id: stopTokenIds(vocab), pad_token_id: eot };
}

export function tokenizerConfig(vocab: Vocabulary, maxLength: number): object {
  const decoder: Record<string, object> = {};
  for (const [content, id] of Object.entries(vocab.specials)) {
    decoder[String(id)] = { content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true };
  }
  return {
    tokenizer_class: 'PreTrainedTokenizerFast',
    added_tokens_decoder: decoder,
    bos_token: null,
    eos_token: eosToken(vocab),
    pad_token: ENDOFTEXT,
    unk_token: null,
    model_max_length: maxLength,
    clean_up_tokenization_spaces: false,
    chat_template: CHATML_TEMPLATE,
  };
}

/** tokenizer.json's text by vocabulary and NFC setting: the merges take ~2 s for Qwen's, and every checkpoint writes it. */
const jsonTexts = new WeakMap<Vocabulary, Map<boolean, string>>();

function tokenizerJsonText(vocab: Vocabulary, nfc: boolean): string {
  let texts = jsonTexts.get(vocab);
  if (!texts) jsonTexts.set(vocab, (texts = new Map()));
  let text = texts.get(nfc);
  if (text === undefined) texts.set(nfc, (text = JSON.stringify(tokenizerJson(vocab, { nfc })) + '\n'));
  return text;
}

/** Writes tokenizer.json and tokenizer_config.json into `dir`. */
export function exportHuggingFace(vocab: Vocabulary, dir: string, opts: { nfc?: boolean; maxLength?: number } = {}): string[] {
  mkdirSync(dir, { recursive: true });
  const files = [join(dir, 'tokenizer.json'), join(dir, 'tokenizer_config.json')];
  writeFileSync(files[0]!, tokenizerJsonText(vocab, opts.nfc !== false));
  writeFileSync(files[1]!, JSON.stringify(tokenizerConfig(vocab, opts.maxLength ?? 32_768), null, 2) + '\n');
  return files;
}
