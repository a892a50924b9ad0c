import type { Doc } from '../io/types.js';

/**
 * The drop reason every text stage (langid, dedup, tokenize) gives a record without a string
 * `text`: such a record is dropped, counted under this reason and written to --rejects, never
 * passed on or turned into a failure.
 */
export const NO_TEXT = 'no text';

export function hasText(doc: Doc): doc is Doc & { text: string } {
  return typeof doc.text === 'string';
}
