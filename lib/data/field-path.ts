import type { Doc } from '../io/types.js';

/**
 * The value at a dotted path in a record (`scores.quality`, `dedup.size`, `source`), or undefined
 * where any step is missing. Keys are split on dots, so a key that holds a dot cannot be named.
 */
export function valueAt(doc: Doc, path: string): unknown {
  let value: unknown = doc;
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}
