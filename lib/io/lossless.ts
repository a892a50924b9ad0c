// Unknown fields pass through every stage untouched (docs/conventions.md). JSON.parse cannot keep
// that promise by itself: 12345678901234567891 comes back as 12345678901234567000, 1e400 as
// Infinity (written as null), -0.0 as 0, "\u00e9" as "é", and integer-like keys move to the front.
// So each record read from JSONL remembers its line and the values it was parsed to; when it is
// written, a record whose fields are all as parsed is its line byte for byte, and a record a stage
// changed is its line with only the changed, added or removed fields re-serialised.
import type { Doc } from './types.js';

interface Original {
  line: string;
  /** The top-level values as parsed (a shallow copy, so that later assignments show). */
  values: Doc;
  fields: number;
  /** JSON.stringify of each object or array value as parsed: a change inside one shows there. */
  nested?: Map<string, string>;
}

// Out-of-band, as locations are: records stay plain JSON objects, and the entry goes with the record.
const originals = new WeakMap<object, Original>();

/** Remembers the JSONL line a record was parsed from (the reader calls this for every record). */
export function rememberLine(doc: Doc, line: string): void {
  let fields = 0;
  let nested: Map<string, string> | undefined;
  for (const key in doc) {
    fields += 1;
    const value = doc[key];
    if (typeof value === 'object' && value !== null) (nested ??= new Map()).set(key, JSON.stringify(value));
  }
  originals.set(doc, { line, values: { ...doc }, fields, nested });
}

/**
 * For a stage that builds a new record from an old one (`{ ...rest, tokens }`) rather than
 * changing it in place: the new record keeps the old one's line, so the fields it copied keep
 * their exact text. Returns `to`.
 */
export function carryLine<T extends Doc>(from: Doc, to: T): T {
  const original = originals.get(from);
  if (original) originals.set(to, original);
  return to;
}

/**
 * Copies a record's remembered line out of the input chunk it was cut from (a line is a slice of
 * its chunk's string), so holding a few records for long (a sample's reservoir) does not hold
 * their whole chunks.
 */
export function detachLine(doc: Doc): void {
  const original = originals.get(doc);
  if (original) original.line = Buffer.from(original.line, 'utf16le').toString('utf16le');
}

/** The record as one line of JSON (no newline): its input line where no field changed; see the top. */
export function losslessJson(doc: Doc): string {
  const original = originals.get(doc);
  if (original === undefined) return JSON.stringify(doc);
  let fields = 0;
  for (const key in doc) {
    if (!unchanged(doc, key, original)) return spliced(doc, original);
    fields += 1;
  }
  return fields === original.fields ? original.line : spliced(doc, original);
}

function unchanged(doc: Doc, key: string, original: Original): boolean {
  const now = doc[key];
  if (typeof now === 'object' && now !== null) {
    const before = original.nested?.get(key);
    return before !== undefined && JSON.stringify(now) === before;
  }
  // Object.is, not ===: -0 set to 0 is a change.
  return now !== undefined && Object.is(now, original.values[key]) && Object.hasOwn(original.values, key);
}

/** The line's members in their order, each kept as written unless it changed; new fields at the end. */
function spliced(doc: Doc, original: Original): string {
  const members = topLevelMembers(original.line);
  const lastOf = new Map<string, number>();
  members.forEach((m, i) => lastOf.set(m.key, i));
  const parts: string[] = [];
  members.forEach((m, i) => {
    if (!Object.hasOwn(doc, m.key)) return;
    if (unchanged(doc, m.key, original)) parts.push(m.text);
    // An earlier duplicate of a changed key goes: JSON readers take the last one.
    else if (lastOf.get(m.key) === i) pushField(parts, m.text.slice(0, m.keyLength), doc[m.key]);
  });
  for (const key in doc) if (!Object.hasOwn(original.values, key)) pushField(parts, JSON.stringify(key), doc[key]);
  return `{${parts.join(',')}}`;
}

function pushField(parts: string[], keyText: string, value: unknown): void {
  const json = JSON.stringify(value);
  // undefined (and functions) are left out, as JSON.stringify of the whole record would.
  if (json !== undefined) parts.push(`${keyText}:${json}`);
}

interface Member {
  /** The key, decoded. */
  key: string;
  /** `"key":value` exactly as in the line (whitespace around the colon included). */
  text: string;
  /** Characters of the key's literal at the start of `text`. */
  keyLength: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** The members of a line that JSON.parse accepted as an object. */
function topLevelMembers(line: string): Member[] {
  const members: Member[] = [];
  let i = skipSpace(line, line.indexOf('{') + 1);
  while (line.charCodeAt(i) === QUOTE) {
    const keyEnd = stringEnd(line, i);
    const literal = line.slice(i, keyEnd);
    const valueStart = skipSpace(line, skipSpace(line, keyEnd) + 1);
    const valueEnd = valueEndAt(line, valueStart);
    members.push({ key: literal.includes('\\') ? (JSON.parse(literal) as string) : literal.slice(1, -1), text: line.slice(i, valueEnd), keyLength: literal.length });
    i = skipSpace(line, valueEnd);
    if (line[i] === ',') i = skipSpace(line, i + 1);
  }
  return members;
}

function skipSpace(s: string, i: number): number {
  for (let c = s.charCodeAt(i); c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d; c = s.charCodeAt(++i));
  return i;
}

/** The index just past the string literal that opens at `i`. */
function stringEnd(s: string, i: number): number {
  for (let from = i + 1; ; ) {
    const quote = s.indexOf('"', from);
    let backslashes = 0;
    while (s.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes += 1;
    if (backslashes % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

/** The index just past the value that starts at `i`. */
function valueEndAt(s: string, i: number): number {
  const c = s[i];
  if (c === '"') return stringEnd(s, i);
  if (c === '{' || c === '[') {
    let depth = 0;
    for (let j = i; ; j++) {
      const d = s[j];
      if (d === '"') j = stringEnd(s, j) - 1;
      else if (d === '{' || d === '[') depth += 1;
      else if ((d === '}' || d === ']') && --depth === 0) return j + 1;
    }
  }
  let j = i;
  while (j < s.length && !',}] \t\r\n'.includes(s[j]!)) j++;
  return j;
}
