// The encoder: pre-tokenize in V8 (the same pattern tiktoken uses), look each piece up in a cache,
// and hand only unseen pieces to tiktoken's WASM BPE. Ids equal tiktoken's `encode_ordinary` on the
// whole text (tested), except two documented cases: pieces longer than MAX_PIECE_CHARS are cut into
// MAX_PIECE_CHARS chunks (tiktoken's BPE is quadratic in piece length: 100k letters took 12 s and
// 100k CJK characters 80 s), and lone surrogates are kept as WTF-8 bytes instead of U+FFFD.
import { Tiktoken } from 'tiktoken/lite';
import { UsageError } from '../errors.js';
import { mayHaveLongPiece } from './long-runs.js';
import { forEachPiece, toJsRegExp } from './pattern.js';
import { formatRanks } from './ranks.js';
import { ENDOFTEXT } from './special.js';
import { loadVocabulary, vocabularyHash, vocabularySize, type Vocabulary, type VocabularySpec } from './vocabulary.js';
import { decodeWtf8, hasLoneSurrogate, splitLoneSurrogates, surrogateBytes } from './wtf8.js';

export const MAX_PIECE_CHARS = 512;
const CACHE_MAX_PIECE = 64;
const CACHE_MAX_ENTRIES = 200_000;
const SAMPLE_CHARS = 1024;
/** Joins unseen pieces for one WASM call; registered only inside the WASM encoder, never emitted. */
const SEPARATOR = '\u0000';

export interface TokenizerOptions {
  /** Unicode NFC before encoding, as Qwen does (default true). */
  nfc?: boolean;
}

export interface EncodeOptions {
  /** Special tokens recognized in the text: none by default (ChatML-injection safe), a list, or 'all'. */
  allowedSpecial?: readonly string[] | 'all';
}

export class Tokenizer {
  readonly vocab: Vocabulary;
  readonly hash: string;
  /** Number of ids (regular + special, including layout gaps): the model's minimum vocab size. */
  readonly size: number;
  readonly eot: number;
  readonly nfc: boolean;
  private core: Tiktoken | undefined;
  private readonly regex: RegExp;
  private readonly cache = new Map<string, number | Uint32Array>();
  private readonly byteRank = new Int32Array(256).fill(-1);
  private readonly specialBytes = new Map<number, Uint8Array>();
  private readonly separatorId: number;
  private scratch = new Uint32Array(1 << 16);
  private length = 0;

  constructor(vocab: Vocabulary, opts: TokenizerOptions = {}) {
    this.vocab = vocab;
    this.hash = vocabularyHash(vocab);
    this.size = vocabularySize(vocab);
    this.eot = vocab.specials[ENDOFTEXT]!;
    this.nfc = opts.nfc ?? true;
    this.regex = toJsRegExp(vocab.pattern);
    vocab.tokens.forEach((token, rank) => {
      if (token.length === 1) this.byteRank[token[0]!] = rank;
    });
    if (this.byteRank.includes(-1)) throw new UsageError(`vocabulary ${vocab.name} lacks some single-byte tokens; it is not byte-level`);
    for (const [text, id] of Object.entries(vocab.specials)) this.specialBytes.set(id, new TextEncoder().encode(text));
    this.separatorId = this.size;
    this.core = new Tiktoken(vocab.rankText ?? formatRanks(vocab.tokens), { ...vocab.specials, [SEPARATOR]: this.separatorId }, vocab.pattern);
  }

  static load(spec: VocabularySpec = {}, opts: TokenizerOptions = {}): Tokenizer {
    return new Tokenizer(loadVocabulary(spec), opts);
  }

  /** Releases the WASM encoder (~19 MB for cl100k, more for larger vocabularies). Idempotent. */
  free(): void {
    this.core?.free();
    this.core = undefined;
    this.cache.clear();
  }

  [Symbol.dispose](): void {
    this.free();
  }

  /** Encodes text with no special tokens recognized: `<|im_start|>` typed in text is plain text. */
  encodeOrdinary(text: string): Uint32Array {
    this.length = 0;
    this.appendText(this.nfc ? text.normalize('NFC') : text);
    return this.scratch.slice(0, this.length);
  }

  encode(text: string, opts: EncodeOptions = {}): Uint32Array {
    const allowed = opts.allowedSpecial === 'all' ? Object.keys(this.vocab.specials) : (opts.allowedSpecial ?? []);
    if (allowed.length === 0) return this.encodeOrdinary(text);
    for (const special of allowed) if (!(special in this.vocab.specials)) throw new UsageError(`unknown special token ${special}`);
    const splitter = new RegExp(allowed.map(escapeRegExp).sort((a, b) => b.length - a.length).join('|'), 'g');
    const normalized = this.nfc ? text.normalize('NFC') : text;
    this.length = 0;
    let position = 0;
    for (const match of normalized.matchAll(splitter)) {
      this.appendText(normalized.slice(position, match.index));
      this.push(this.vocab.specials[match[0]]!);
      position = match.index! + match[0].length;
    }
    this.appendText(normalized.slice(position));
    return this.scratch.slice(0, this.length);
  }

  /** The bytes the ids stand for (special tokens as their text). */
  decodeBytes(ids: ArrayLike<number>): Uint8Array {
    const parts: Uint8Array[] = [];
    let total = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const bytes = this.vocab.tokens[id] ?? this.specialBytes.get(id);
      if (!bytes) throw new RangeError(`token id ${id} is not in vocabulary ${this.vocab.name} (size ${this.size})`);
      parts.push(bytes);
      total += bytes.length;
    }
    const out = new Uint8Array(total);
    let offset = 0;
    for (const part of parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }

  /** Text of the ids; lone surrogates come back as encoded (WTF-8), other broken UTF-8 as U+FFFD. */
  decode(ids: ArrayLike<number>): string {
    return decodeWtf8(this.decodeBytes(ids));
  }

  private push(id: number): void {
    if (this.length === this.scratch.length) this.grow(1);
    this.scratch[this.length++] = id;
  }

  private pushAll(ids: Uint32Array): void {
    if (this.length + ids.length > this.scratch.length) this.grow(ids.length);
    this.scratch.set(ids, this.length);
    this.length += ids.length;
  }

  private grow(extra: number): void {
    const next = new Uint32Array(Math.max(this.scratch.length * 2, this.length + extra));
    next.set(this.scratch.subarray(0, this.length));
    this.scratch = next;
  }

  /**
   * Pieces found in the cache are copied; the unseen ones of this text go to tiktoken in one call,
   * joined by an internal one-character special token: tiktoken encodes the text between special
   * tokens independently, so each piece gets exactly its own BPE, and one WASM call replaces one
   * per piece (2× faster on Chinese).
   */
  private appendText(text: string): void {
    if (text.length === 0) return;
    if (this.mostlyUnseen(text)) {
      // One tiktoken call on the whole text gives the same ids with less bookkeeping.
      this.pushAll(this.coreOrThrow().encode_ordinary(text));
      return;
    }
    const pieces: string[] = [];
    const found: (number | Uint32Array | undefined)[] = [];
    const unseen = new Map<string, Uint32Array | undefined>();
    forEachPiece(this.regex, text, (start, end) => {
      for (let at = start; at < end; ) {
        let stop = Math.min(end, at + MAX_PIECE_CHARS);
        // Never cut between the halves of a surrogate pair.
        if (stop < end && isHighSurrogate(text.charCodeAt(stop - 1))) stop -= 1;
        const piece = text.slice(at, stop);
        const cached = this.cache.get(piece);
        pieces.push(piece);
        found.push(cached);
        if (cached === undefined) unseen.set(piece, undefined);
        at = stop;
      }
    });
    if (unseen.size > 0) this.encodeUnseen(unseen);
    for (let i = 0; i < pieces.length; i++) {
      const ids = found[i] ?? unseen.get(pieces[i]!)!;
      if (typeof ids === 'number') this.push(ids);
      else this.pushAll(ids);
    }
  }

  /**
   * True for CJK-dominated text: its pre-tokens are long runs that rarely repeat, so the piece
   * cache would miss anyway, provided the text has nothing the piece path treats specially (a run
   * that could make a piece longer than MAX_PIECE_CHARS, a lone surrogate).
   */
  private mostlyUnseen(text: string): boolean {
    if (text.length < 256) return false;
    const end = Math.min(text.length, SAMPLE_CHARS);
    let cjk = 0;
    for (let i = 0; i < end; i++) if (isCjk(text.charCodeAt(i))) cjk += 1;
    return cjk * 2 > end && !mayHaveLongPiece(text, MAX_PIECE_CHARS) && !hasLoneSurrogate(text);
  }

  private encodeUnseen(unseen: Map<string, Uint32Array | undefined>): void {
    const core = this.coreOrThrow();
    const batch: string[] = [];
    for (const piece of unseen.keys()) {
      if (hasLoneSurrogate(piece) || piece.includes(SEPARATOR)) unseen.set(piece, this.bpe(piece));
      else batch.push(piece);
    }
    if (batch.length > 0) {
      const ids = batch.length === 1 ? core.encode_ordinary(batch[0]!) : core.encode(batch.join(SEPARATOR), [SEPARATOR], []);
      let start = 0;
      for (const piece of batch) {
        let end = start;
        while (end < ids.length && ids[end] !== this.separatorId) end++;
        unseen.set(piece, ids.slice(start, end));
        start = end + 1;
      }
    }
    for (const [piece, ids] of unseen) {
      if (piece.length > CACHE_MAX_PIECE) continue;
      if (this.cache.size >= CACHE_MAX_ENTRIES) this.cache.clear();
      this.cache.set(piece, ids!.length === 1 ? ids![0]! : ids!);
    }
  }

  private coreOrThrow(): Tiktoken {
    if (!this.core) throw new Error('Tokenizer used after free()');
    return this.core;
  }

  /** BPE of one piece; lone surrogates become their WTF-8 byte tokens. */
  private bpe(piece: string): Uint32Array {
    const core = this.coreOrThrow();
    if (!hasLoneSurrogate(piece)) return core.encode_ordinary(piece);
    const ids: number[] = [];
    for (const part of splitLoneSurrogates(piece)) {
      if (typeof part === 'number') for (const byte of surrogateBytes(part)) ids.push(this.byteRank[byte]!);
      else ids.push(...core.encode_ordinary(part));
    }
    return Uint32Array.from(ids);
  }
}

/** Kana, CJK ideographs (BMP) and Hangul syllables: enough to tell CJK-dominated text. */
function isCjk(unit: number): boolean {
  return (unit >= 0x3040 && unit <= 0x30ff) || (unit >= 0x3400 && unit <= 0x9fff) || (unit >= 0xac00 && unit <= 0xd7af);
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Runs `fn` with a tokenizer and always frees its WASM memory afterwards. */
export async function withTokenizer<T>(spec: VocabularySpec, opts: TokenizerOptions, fn: (tokenizer: Tokenizer) => T | Promise<T>): Promise<T> {
  const tokenizer = Tokenizer.load(spec, opts);
  try {
    return await fn(tokenizer);
  } finally {
    tokenizer.free();
  }
}
