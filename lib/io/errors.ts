import type { Location } from './types.js';

/** Exit codes shared by every command (DESIGN.md): 0 ok, 1 data or runtime error, 2 usage. */
export const EXIT_OK = 0;
export const EXIT_DATA = 1;
export const EXIT_USAGE = 2;

/** Bad input data; the message reads `file:line: reason`. Exit code 1. */
export class DataError extends Error {
  readonly location?: Location;
  readonly reason: string;
  constructor(reason: string, location?: Location) {
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
