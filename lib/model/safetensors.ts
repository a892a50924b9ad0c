// safetensors (Hugging Face's tensor file): 8-byte little-endian header length, a JSON header of
// {name: {dtype, shape, data_offsets}}, then the raw little-endian tensor bytes. Never pickle.
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { DataError } from '../errors.js';

export type SafeDType = 'F32' | 'BF16';

export interface SafeTensorInfo {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

export interface SafeTensorsFile {
  path: string;
  tensors: Map<string, SafeTensorInfo>;
  metadata: Record<string, string>;
  /** Byte offset of the data section. */
  dataStart: number;
}

export interface TensorSource {
  name: string;
  shape: number[];
  /** Produces the tensor's fp32 values when it is written (one tensor in memory at a time). */
  data: () => Float32Array;
}

/** Writes fp32 tensors in the given order. */
export function writeSafetensors(path: string, tensors: TensorSource[], metadata: Record<string, string> = {}): void {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt', ...metadata } };
  let offset = 0;
  for (const t of tensors) {
    const bytes = t.shape.reduce((a, b) => a * b, 1) * 4;
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, head);
    writeSync(fd, json);
    for (const t of tensors) {
      const data = t.data();
      const expected = t.shape.reduce((a, b) => a * b, 1);
      if (data.length !== expected) throw new Error(`safetensors: ${t.name} has ${data.length} values, shape needs ${expected}`);
      writeAll(fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
  } finally {
    closeSync(fd);
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, Math.min(bytes.length - done, 1 << 30));
}

export function readSafetensorsHeader(path: string): SafeTensorsFile {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(8);
    if (readSync(fd, head, 0, 8, 0) !== 8) throw new DataError(`${path}: not a safetensors file (shorter than 8 bytes)`);
    const length = Number(head.readBigUInt64LE());
    if (length > 100 << 20) throw new DataError(`${path}: not a safetensors file (header of ${length} bytes)`);
    const json = Buffer.alloc(length);
    readSync(fd, json, 0, length, 8);
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(json.toString('utf8'));
    } catch (err) {
      throw new DataError(`${path}: unreadable safetensors header: ${(err as Error).message}`);
    }
    const tensors = new Map<string, SafeTensorInfo>();
    let metadata: Record<string, string> = {};
    for (const [name, info] of Object.entries(parsed)) {
      if (name === '__metadata__') metadata = info as Record<string, string>;
      else tensors.set(name, info as SafeTensorInfo);
    }
    return { path, tensors, metadata, dataStart: 8 + length };
  } finally {
    closeSync(fd);
  }
}

/** One tensor as fp32 (F32, BF16 and F16 files are read). */
export function readTensor(file: SafeTensorsFile, name: string): Float32Array {
  const info = file.tensors.get(name);
  if (!info) throw new DataError(`${file.path}: no tensor ${name}`);
  const [start, end] = info.data_offsets;
  const bytes = Buffer.alloc(end - start);
  const fd = openSync(file.path, 'r');
  try {
    for (let done = 0; done < bytes.length; ) {
      const n = readSync(fd, bytes, done, Math.min(bytes.length - done, 1 << 30), file.dataStart + start + done);
      if (n === 0) throw new DataError(`${file.path}: truncated inside tensor ${name}`);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  const count = info.shape.reduce((a, b) => a * b, 1);
  if (info.dtype === 'F32') return new Float32Array(bytes.buffer, bytes.byteOffset, count).slice();
  if (info.dtype === 'BF16' || info.dtype === 'F16') {
    const half = new Uint16Array(bytes.buffer, bytes.byteOffset, count);
    const out = new Float32Array(count);
    const bits = new Uint32Array(out.buffer);
    if (info.dtype === 'BF16') for (let i = 0; i < count; i++) bits[i] = half[i]! << 16;
    else for (let i = 0; i < count; i++) out[i] = halfToFloat(half[i]!);
    return out;
  }
  throw new DataError(`${file.path}: tensor ${name} has dtype ${info.dtype}; loom reads F32, BF16 and F16`);
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}
