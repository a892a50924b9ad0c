import type { Doc, Location } from './types.js';

// Out-of-band so records stay plain JSON objects: stages that drop a record can still say where
// it came from, and the entry disappears with the record.
const locations = new WeakMap<object, Location>();

export function setLocation(doc: Doc, loc: Location): void {
  locations.set(doc, loc);
}

export function locationOf(doc: Doc): Location | undefined {
  return locations.get(doc);
}
