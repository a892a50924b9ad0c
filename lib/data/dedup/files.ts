// Binary task files of the multi-stage mode: flat little-endian typed arrays, written as *.tmp and
// renamed, with an empty `*.done` marker written last, so a rerun skips finished tasks and never
// trusts a half-written file.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataError } from '../../errors.js';

export function writeAtomic(path: string, data: Uint32Array | Float64Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  const bytes = typeof data === 'string' ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  writeFileSync(`${path}.tmp`, bytes);
  renameSync(`${path}.tmp`, path);
}

export function readUint32(path: string): Uint32Array {
  const bytes = readExisting(path);
  return new Uint32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

export function readFloat64(path: string): Float64Array {
  const bytes = readExisting(path);
  return new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

function readExisting(path: string): Buffer {
  if (!existsSync(path)) throw new DataError(`${path}: missing (was the step that writes it run to completion?)`);
  return readFileSync(path);
}

export const isDone = (path: string) => existsSync(`${path}.done`);
export const markDone = (path: string) => writeAtomic(`${path}.done`, '');
