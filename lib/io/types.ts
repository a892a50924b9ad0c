/** A document record as it flows between stages (DESIGN.md "Records"). Unknown fields pass through. */
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
