// Plain text files as input: `loom tokenize book.txt` reads the file as one document (`id` from the
// file name, `text` its content, `source` its path), or with `--txt-split paragraph` as one document
// per paragraph (lines up to a blank line; `id` = name#n). Files are recognized by name (`.txt`,
// `.txt.gz`, `.txt.zst`); stdin is always JSONL. Line endings become `\n`, as lineBatches reads them.
import { basename } from 'node:path';
import { decodedChunks } from './compression.js';
import { DataError } from '../errors.js';
import type { InputSource } from './inputs.js';
import { DEFAULT_MAX_LINE_BYTES, LINE_TOO_LONG, lineBatches } from './lines.js';
import { setLocation } from './location.js';
import { countBytes, type ReadCounters, type ReadOptions } from './read.js';
import type { Doc } from './types.js';

export const TEXT_SPLITS = ['file', 'paragraph'] as const;
export type TextSplit = (typeof TEXT_SPLITS)[number];

const TEXT_FILE = /\.txt(\.gz|\.zst)?$/i;

export function isTextFile(name: string): boolean {
  return TEXT_FILE.test(name);
}

/** The documents of one text file, a batch per decoded chunk (paragraphs) or one batch (file). */
export async function* textDocBatches(source: InputSource, opts: ReadOptions, counters: ReadCounters): AsyncGenerator<Doc[]> {
  const file = source.name;
  const name = basename(file).replace(TEXT_FILE, '');
  const split = opts.txtSplit ?? 'file';
  const maxLineBytes = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const onInvalidUtf8 = (line: number) => {
    counters.invalidUtf8Lines += 1;
    counters.firstInvalidUtf8 ??= { file, line };
  };
  const doc = (text: string, line: number, id: string): Doc => {
    const record: Doc = { id, text, source: file };
    counters.records += 1;
    setLocation(record, { file, line });
    return record;
  };
  let paragraph: string[] = [];
  let startLine = 1;
  let paragraphs = 0;
  const whole: string[] = [];
  try {
    for await (const { lines, firstLine } of lineBatches(countBytes(decodedChunks(source.open()), counters), { maxLineBytes, onInvalidUtf8 })) {
      const docs: Doc[] = [];
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i]!;
        if (line === LINE_TOO_LONG) throw new DataError(`line longer than the limit of ${maxLineBytes} bytes (raise it with --max-line-bytes)`, { file, line: firstLine + i });
        if (split === 'file') whole.push(line);
        else if (line.trim() !== '') {
          if (paragraph.length === 0) startLine = firstLine + i;
          paragraph.push(line);
        } else if (paragraph.length > 0) {
          docs.push(doc(paragraph.join('\n'), startLine, `${name}#${++paragraphs}`));
          paragraph = [];
        }
      }
      if (docs.length > 0) yield docs;
    }
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError(`${file}: cannot read: ${(err as Error).message}`);
  }
  if (paragraph.length > 0) yield [doc(paragraph.join('\n'), startLine, `${name}#${++paragraphs}`)];
  if (split === 'file') yield [doc(whole.join('\n'), 1, name)];
}
