// The bottom rows of a terminal that a status display redraws in place, the way tqdm does: every
// other write to the terminal (log lines on stderr, data on stdout when stdout is the same
// terminal) first erases the region, is written where the region was, and the region is drawn
// again below it. The region only ever erases the rows it drew itself, so nothing written by
// anyone else is overdrawn.
import { stripVTControlCharacters } from 'node:util';
import { textWidth } from './fit.js';
import { terminalColumns } from './terminal.js';

type Chunk = string | Uint8Array;
type Write = (chunk: Chunk, ...rest: unknown[]) => boolean;

/** A stream as the region needs it: process.stderr, process.stdout, or a stub in tests. */
export type TerminalStream = Pick<NodeJS.WriteStream, 'write' | 'isTTY' | 'columns' | 'rows'>;

export interface LiveRegionOptions {
  /** Where the region is drawn (stderr). */
  terminal?: TerminalStream;
  /** Other streams on the same screen (stdout, when it is a terminal): their writes go above the region. */
  sharing?: TerminalStream[];
  /** Redraws with a fresh frame this often. */
  intervalMs?: number;
}

export interface LiveRegion {
  /** Draws a fresh frame now. */
  refresh(): void;
  /** Prints `line` above the region, where it stays. */
  log(line: string): void;
  /** Stops redrawing and hands the streams their own write back; `keep` leaves the last frame on screen. */
  stop(opts?: { keep?: boolean }): void;
}

const ERASE_ROW = '\r\x1b[2K';
const ROW_UP = '\x1b[1A';

/**
 * Draws `frame(width)` (lines of at most `width` columns, the terminal's width less one so the
 * cursor never sits past the edge) at the bottom of the terminal until stopped.
 */
export function startLiveRegion(frame: (width: number) => string, opts: LiveRegionOptions = {}): LiveRegion {
  const terminal = opts.terminal ?? process.stderr;
  const streams = [terminal, ...(opts.sharing ?? []).filter((s) => s !== terminal && s.isTTY)];
  const originals = new Map<TerminalStream, { write: Write; own: boolean }>();
  for (const stream of streams) originals.set(stream, { write: stream.write as Write, own: Object.hasOwn(stream, 'write') });
  const writeTerminal = (text: string) => originals.get(terminal)!.write.call(terminal, text);

  let lines: string[] = [];
  /** Rows of the screen the region covers now (0: not drawn). */
  let rows = 0;
  /** False while someone's last write left a line unfinished: drawing there would end up inside it. */
  let atLineStart = true;

  const erasure = () => {
    const text = rows > 0 ? ERASE_ROW + (ROW_UP + ERASE_ROW).repeat(rows - 1) : '';
    rows = 0;
    return text;
  };
  const drawing = () => {
    if (!atLineStart || lines.length === 0) return '';
    const columns = terminalColumns(terminal);
    // A line that is wider after all wraps onto more rows; count them, so the erase stays exact.
    rows = lines.reduce((sum, line) => sum + Math.max(1, Math.ceil(textWidth(stripVTControlCharacters(line)) / columns)), 0);
    return lines.join('\n');
  };
  const render = () => {
    const height = Math.max(1, (terminal.rows || 24) - 1);
    lines = frame(terminalColumns(terminal) - 1).replace(/\n+$/, '').split('\n').slice(-height);
  };
  const refresh = () => {
    render();
    const text = erasure() + drawing();
    if (text) writeTerminal(text);
  };

  for (const stream of streams) {
    const { write } = originals.get(stream)!;
    stream.write = function (chunk: Chunk, ...rest: unknown[]) {
      const hide = erasure();
      if (hide) writeTerminal(hide);
      const ok = write.call(stream, chunk, ...rest);
      if (chunk.length > 0) atLineStart = typeof chunk === 'string' ? chunk.endsWith('\n') : chunk[chunk.length - 1] === 0x0a;
      const show = drawing();
      if (show) writeTerminal(show);
      return ok;
    } as TerminalStream['write'];
  }
  // An exit that skips stop() (process.exit, a signal handler) must not leave the frame behind.
  const onExit = () => {
    const hide = erasure();
    if (hide) writeTerminal(hide);
  };
  process.on('exit', onExit);
  const timer = setInterval(refresh, opts.intervalMs ?? 200);
  timer.unref();
  refresh();

  return {
    refresh,
    log: (line) => void terminal.write(line + '\n'),
    stop: ({ keep = false } = {}) => {
      clearInterval(timer);
      process.off('exit', onExit);
      if (keep) {
        refresh();
        if (rows > 0) writeTerminal('\n');
        rows = 0;
      } else onExit();
      for (const [stream, { write, own }] of originals) {
        if (own) stream.write = write as TerminalStream['write'];
        else delete (stream as Partial<TerminalStream>).write;
      }
    },
  };
}
