// A small terminal emulator for tests: what a user would see after a program's writes, with
// autowrap at the right edge and the escape sequences loom's displays and ink use.
import type { TerminalStream } from '../../../lib/ui/live-region.js';

export class VirtualTerminal {
  /** Every row ever shown, scrollback included. */
  private rows: string[][] = [[]];
  /** Rows that began by wrapping from the row above (one long line, not two). */
  private continued = new Set<number>();
  private row = 0;
  private col = 0;
  private pendingWrap = false;
  /** How often a write ran past the right edge and wrapped. */
  wraps = 0;

  constructor(
    readonly columns = 80,
    readonly height = 24,
  ) {}

  /** A TTY stream on this screen, as process.stderr or process.stdout would be. */
  stream(): TerminalStream {
    const feed = (chunk: string | Uint8Array, ...rest: unknown[]) => {
      this.feed(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    };
    return { isTTY: true, columns: this.columns, rows: this.height, write: feed as TerminalStream['write'] };
  }

  feed(text: string): void {
    for (let i = 0; i < text.length; i++) {
      const ch = text[i]!;
      if (ch === '\x1b') {
        const match = /^\x1b\[([?]?)([0-9;]*)([@-~])/.exec(text.slice(i));
        if (!match) throw new Error(`unsupported escape ${JSON.stringify(text.slice(i, i + 8))}`);
        this.csi(match[1]!, match[2]!, match[3]!);
        i += match[0].length - 1;
      } else if (ch === '\n') this.lineFeed(false);
      else if (ch === '\r') {
        this.col = 0;
        this.pendingWrap = false;
      } else this.print(ch);
    }
  }

  /** The visible text: one string per row, trailing blanks trimmed, blank rows at the bottom dropped. */
  screen(): string[] {
    const lines = this.rows.map((r) => r.join('').trimEnd());
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    return lines;
  }

  /** The screen as the lines that were written: rows continued by autowrap are joined again. */
  lines(): string[] {
    const out: string[] = [];
    this.rows.forEach((row, i) => {
      if (this.continued.has(i) && out.length > 0) out[out.length - 1] += row.join('');
      else out.push(row.join(''));
    });
    const lines = out.map((l) => l.trimEnd());
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    return lines;
  }

  private print(ch: string): void {
    if (this.pendingWrap) {
      this.wraps += 1;
      this.lineFeed(true);
    }
    const line = this.rows[this.row]!;
    while (line.length < this.col) line.push(' ');
    line[this.col] = ch;
    if (this.col === this.columns - 1) this.pendingWrap = true;
    else this.col += 1;
  }

  private lineFeed(wrapped: boolean): void {
    this.row += 1;
    this.col = 0;
    this.pendingWrap = false;
    if (this.row === this.rows.length) this.rows.push([]);
    if (wrapped) this.continued.add(this.row);
    else this.continued.delete(this.row);
  }

  private csi(privateMode: string, params: string, final: string): void {
    const n = Number(params.split(';')[0] || (final === 'K' || final === 'J' ? 0 : 1));
    const top = Math.max(0, this.rows.length - this.height);
    this.pendingWrap = false;
    if (privateMode || final === 'm') return; // cursor visibility, synchronized output, colours
    if (final === 'A') this.row = Math.max(top, this.row - n);
    else if (final === 'B') this.row = Math.min(this.rows.length - 1, this.row + n);
    else if (final === 'C') this.col = Math.min(this.columns - 1, this.col + n);
    else if (final === 'D') this.col = Math.max(0, this.col - n);
    else if (final === 'G') this.col = Math.max(0, n - 1);
    else if (final === 'E') {
      this.row = Math.min(this.rows.length - 1, this.row + n);
      this.col = 0;
    } else if (final === 'K') {
      const line = this.rows[this.row]!;
      if (n === 2) line.length = 0;
      else if (n === 0) line.length = Math.min(line.length, this.col);
      else for (let c = 0; c <= this.col && c < line.length; c++) line[c] = ' ';
    } else throw new Error(`unsupported escape CSI ${params}${final}`);
  }
}
