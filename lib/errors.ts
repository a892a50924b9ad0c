import type { Location } from './io/types.js';

/** Exit codes shared by every command (DESIGN.md): 0 ok, 1 data or runtime error, 2 usage. */
export const EXIT_OK = 0;
export const EXIT_DATA = 1;
export const EXIT_USAGE = 2;

/** Bad input data; the message reads `file:line: reason`. Exit code 1. */
export class DataError extends Error {
  readonly location?: Location;
  readonly reason: string;
  constructor(reason: string, location?: Location) {
    reason = escapeControls(reason);
    super(location ? `${formatLocation(location)}: ${reason}` : reason);
    this.name = 'DataError';
    this.reason = reason;
    this.location = location;
  }
}

/** The command line itself is wrong. Exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function formatLocation(loc: Location): string {
  return `${loc.file}:${loc.line}`;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// C0 and C1 controls, DEL, bidirectional overrides and lone surrogates: what input bytes can put
// into a message that would move the cursor, recolour or reorder the terminal.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * A message safe to print: every control or invisible-reordering character is written as an
 * escape (`\x1b`, `\n`, `\u202e`). Apply it to anything that quotes input; it is idempotent.
 */
export function escapeControls(text: string): string {
  return text.replace(UNPRINTABLE, (ch) => NAMED[ch] ?? (ch.charCodeAt(0) < 0x100 ? `\\x${hex(ch, 2)}` : `\\u${hex(ch, 4)}`));
}

function hex(ch: string, width: number): string {
  return ch.charCodeAt(0).toString(16).padStart(width, '0');
}

/** The first `max` characters of `text`, quoted as a string literal would be, for messages that show what input looks like. */
export function quoteInput(text: string, max = 32): string {
  const shown = (text.length > max ? `${text.slice(0, max)}…` : text).replace(/[\\"]/g, '\\$&');
  return `"${escapeControls(shown)}"`;
}
