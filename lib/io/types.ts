/**
 * A document record as it flows between stages (DESIGN.md "Records"). Unknown fields pass through
 * with their exact text: a stage changes a record in place (or carries its line to a copy with
 * carryLine), and the writer re-serializes only the fields that changed (lib/io/lossless.ts).
 */
export interface Doc {
  id?: string;
  text?: string;
  url?: string;
  title?: string;
  source?: string;
  lang?: string;
  lang_score?: number;
  scores?: Record<string, number>;
  flags?: Record<string, string>;
  dedup?: { cluster: string; size: number; kept: boolean };
  [field: string]: unknown;
}

/** Where a record came from, for `file:line: reason` messages. */
export interface Location {
  file: string;
  line: number;
}

export type OnError = 'fail' | 'skip';
