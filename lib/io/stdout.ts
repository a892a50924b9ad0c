/**
 * `loom … | head -1`: when the reader goes away, stop at once with exit 0 and nothing on stderr,
 * as Unix filters do.
 */
export function exitQuietlyOnEpipe(stream: NodeJS.WriteStream = process.stdout): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}
