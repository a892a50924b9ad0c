// Plain-text output of `loom generate`: each sample's text, then a line break, in sample order.
// Samples run concurrently, so the first unfinished sample streams as its tokens arrive and the
// later ones wait in memory until every sample before them has finished.

export class OrderedText {
  private current = 0;
  private readonly waiting = new Map<number, { parts: string[]; done: boolean }>();

  constructor(private readonly write: (text: string) => void) {}

  /** Text of sample `sample` (numbered from 0 without gaps); `done` with its last piece. */
  add = (sample: number, text: string, done: boolean): void => {
    if (sample !== this.current) {
      const entry = this.waiting.get(sample) ?? { parts: [], done: false };
      if (text !== '') entry.parts.push(text);
      entry.done ||= done;
      this.waiting.set(sample, entry);
      return;
    }
    if (text !== '') this.write(text);
    if (done) this.next();
  };

  private next(): void {
    this.write('\n');
    this.current += 1;
    const entry = this.waiting.get(this.current);
    if (!entry) return;
    // The next sample's text so far goes out now; what it says from here on streams directly.
    this.waiting.delete(this.current);
    if (entry.parts.length > 0) this.write(entry.parts.join(''));
    if (entry.done) this.next();
  }
}
