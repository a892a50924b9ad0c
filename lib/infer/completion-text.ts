// The text of a completion as its tokens arrive. A token can end in the middle of a UTF-8
// character (a Chinese character is often two or three byte tokens), so the bytes of an unfinished
// character wait for the next token. Stop strings are looked for in the text, across token
// boundaries; the completion is cut right before the first one. Text that may still turn out to
// be the start of a stop string is held back from `take`, so streamed output never shows part of one.

export class CompletionText {
  private readonly decoder = new TextDecoder('utf-8');
  private readonly longestStop: number;
  private text = '';
  private taken = 0;
  private done = false;
  /** True once a stop string appeared. */
  stopped = false;

  constructor(
    private readonly tokenizer: { decodeBytes(ids: ArrayLike<number>): Uint8Array },
    private readonly stops: readonly string[] = [],
  ) {
    this.longestStop = Math.max(0, ...stops.map((s) => s.length));
  }

  /** Adds a token's bytes; false once a stop string is in the text (the sequence should end). */
  push(token: number): boolean {
    if (this.stopped) return false;
    const before = this.text.length;
    this.text += this.decoder.decode(this.tokenizer.decodeBytes([token]), { stream: true });
    // A stop string found now ends in the new text, so it starts at most longestStop - 1 before it.
    const from = Math.max(0, before - this.longestStop + 1);
    let cut = -1;
    for (const stop of this.stops) {
      const at = this.text.indexOf(stop, from);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut < 0) return true;
    this.text = this.text.slice(0, cut);
    this.stopped = true;
    return false;
  }

  /** The text not taken yet that can be shown now: whole characters that cannot begin a stop string. */
  take(): string {
    const end = this.stopped || this.done ? this.text.length : this.text.length - this.heldBack();
    const out = this.text.slice(this.taken, end);
    this.taken = Math.max(this.taken, end);
    return out;
  }

  /** Ends the text (an unfinished character becomes U+FFFD) and returns what was not taken. */
  finish(): string {
    if (!this.done && !this.stopped) this.text += this.decoder.decode();
    this.done = true;
    return this.take();
  }

  /** The completion so far (all of it after finish), cut before a stop string. */
  toString(): string {
    return this.text;
  }

  /** Length of the longest end of the text that is the beginning of a stop string. */
  private heldBack(): number {
    for (let n = Math.min(this.longestStop - 1, this.text.length); n > 0; n--) {
      const end = this.text.slice(-n);
      if (this.stops.some((stop) => stop.startsWith(end))) return n;
    }
    return 0;
  }
}
