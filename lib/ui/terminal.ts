/** Width assumed when the terminal reports none. */
export const FALLBACK_COLUMNS = 80;

/**
 * stderr, where ink draws, with a usable width: a pty can report 0 columns (`script` without a
 * size, some CI runners), and ink then wraps after every character. Node refreshes `columns` on
 * each resize, so the fallback is put back after each one.
 */
export function inkStream(stream: NodeJS.WriteStream = process.stderr): NodeJS.WriteStream {
  const ensureWidth = () => {
    if (stream.isTTY && !(stream.columns > 0)) stream.columns = FALLBACK_COLUMNS;
  };
  ensureWidth();
  stream.on('resize', ensureWidth);
  return stream;
}
