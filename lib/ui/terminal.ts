/** Width assumed when the terminal reports none. */
export const FALLBACK_COLUMNS = 80;

/**
 * The terminal's width: a pty can report 0 columns (`script` without a size, some CI runners), and
 * drawing 0 wide would put one character on each line. Read at each redraw, so a resize is followed.
 */
export function terminalColumns(stream: { columns?: number } = process.stderr): number {
  return stream.columns && stream.columns > 0 ? stream.columns : FALLBACK_COLUMNS;
}
