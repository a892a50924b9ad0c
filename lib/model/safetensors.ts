// safetensors (Hugging Face's tensor file): 8-byte little-endian header length, a JSON header of
// {name: {dtype, shape, data_offsets}}, then the raw little-endian tensor bytes. Never pickle.
import { closeSync, existsSync, openSync, readFileSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { DataError, UsageError } from '../errors.js';

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

const BYTES: Record<SafeDType, number> = { F32: 4, BF16: 2 };

/** Bytes `shape` takes stored as `dtype`. */
export function tensorBytes(shape: readonly number[], dtype: SafeDType): number {
  return shape.reduce((a, b) => a * b, 1) * BYTES[dtype];
}

/** Writes tensors in the given order, all as `dtype` (fp32 values rounded to nearest even for BF16). */
export function writeSafetensors(path: string, tensors: TensorSource[], metadata: Record<string, string> = {}, dtype: SafeDType = 'F32'): void {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt', ...metadata } };
  let offset = 0;
  for (const t of tensors) {
    const bytes = tensorBytes(t.shape, dtype);
    header[t.name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
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
      const stored = dtype === 'BF16' ? toBfloat16(data) : data;
      writeAll(fd, new Uint8Array(stored.buffer, stored.byteOffset, stored.byteLength));
    }
  } finally {
    closeSync(fd);
  }
}

/** fp32 → bf16 bits, round to nearest even (as torch's .to(torch.bfloat16)); NaN stays NaN. */
export function toBfloat16(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const b = bits[i]!;
    out[i] = Number.isNaN(values[i]) ? (b >>> 16) | 0x40 : (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
  }
  return out;
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

// A model's tensors in one file, or (Hugging Face's layout for large models) in shards
// model-00001-of-0000N.safetensors listed by model.safetensors.index.json:
// {"metadata": {"total_size": bytes}, "weight_map": {tensor name: shard file}}.
export const MODEL_FILE = 'model.safetensors';
export const MODEL_INDEX_FILE = 'model.safetensors.index.json';
const SHARD_FILE = /^model-\d{5}-of-\d{5}\.safetensors$/;

/** A model's tensor files: model.safetensors, the index, or a shard. */
export function isModelTensorFile(name: string): boolean {
  return name === MODEL_FILE || name === MODEL_INDEX_FILE || SHARD_FILE.test(name);
}

export interface ModelTensors {
  /** What messages name: the file, or the index of the shards. */
  path: string;
  names(): string[];
  info(name: string): SafeTensorInfo | undefined;
  /** One tensor as fp32. */
  read(name: string): Float32Array;
}

/** Opens DIR's model.safetensors, else the shards its model.safetensors.index.json lists. */
export function openModelTensors(dir: string): ModelTensors {
  const single = join(dir, MODEL_FILE);
  const index = join(dir, MODEL_INDEX_FILE);
  if (existsSync(single) || !existsSync(index)) {
    const file = readSafetensorsHeader(single);
    return { path: single, names: () => [...file.tensors.keys()], info: (name) => file.tensors.get(name), read: (name) => readTensor(file, name) };
  }
  const shardOf = readIndex(index);
  const headers = new Map<string, SafeTensorsFile>();
  const header = (shard: string) => {
    let file = headers.get(shard);
    if (!file) headers.set(shard, (file = readSafetensorsHeader(join(dir, shard))));
    return file;
  };
  const fileOf = (name: string) => {
    const shard = shardOf.get(name);
    if (shard === undefined) return undefined;
    const file = header(shard);
    if (!file.tensors.has(name)) throw new DataError(`${index}: lists ${name} in ${shard}, which does not hold it`);
    return file;
  };
  return {
    path: index,
    names: () => [...shardOf.keys()],
    info: (name) => fileOf(name)?.tensors.get(name),
    read: (name) => {
      const file = fileOf(name);
      if (!file) throw new DataError(`${index}: no tensor ${name}`);
      return readTensor(file, name);
    },
  };
}

function readIndex(path: string): Map<string, string> {
  let json: { weight_map?: unknown };
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new DataError(`${path}: unreadable: ${(err as Error).message}`);
  }
  const map = json.weight_map;
  if (!map || typeof map !== 'object' || Array.isArray(map)) throw new DataError(`${path}: weight_map is missing or not an object`);
  const shardOf = new Map<string, string>();
  for (const [name, shard] of Object.entries(map)) {
    // Shards sit beside the index: a path elsewhere is refused, not followed.
    if (typeof shard !== 'string' || shard !== basename(shard) || !shard.endsWith('.safetensors'))
      throw new DataError(`${path}: weight_map.${name} is ${JSON.stringify(shard)}, not a .safetensors file beside the index`);
    shardOf.set(name, shard);
  }
  return shardOf;
}

export interface ModelTensorOptions {
  dtype?: SafeDType;
  /** Shards of at most this many tensor bytes (a larger tensor gets a shard of its own); default one file. */
  maxShardBytes?: number;
}

/** Writes a model's tensors into DIR as model.safetensors, or as shards with the index; returns the file names. */
export function writeModelTensors(dir: string, tensors: TensorSource[], o: ModelTensorOptions = {}): string[] {
  const dtype = o.dtype ?? 'F32';
  if (o.maxShardBytes === undefined) {
    writeSafetensors(join(dir, MODEL_FILE), tensors, {}, dtype);
    return [MODEL_FILE];
  }
  if (!(o.maxShardBytes > 0)) throw new UsageError(`maxShardBytes must be positive, got ${o.maxShardBytes}`);
  const shards: TensorSource[][] = [];
  let bytes = Infinity;
  for (const t of tensors) {
    const size = tensorBytes(t.shape, dtype);
    if (bytes + size > o.maxShardBytes) {
      shards.push([]);
      bytes = 0;
    }
    shards[shards.length - 1]!.push(t);
    bytes += size;
  }
  const pad = (n: number) => String(n).padStart(5, '0');
  const names = shards.map((_, i) => `model-${pad(i + 1)}-of-${pad(shards.length)}.safetensors`);
  const weightMap: Record<string, string> = {};
  shards.forEach((shard, i) => {
    writeSafetensors(join(dir, names[i]!), shard, {}, dtype);
    for (const t of shard) weightMap[t.name] = names[i]!;
  });
  const totalSize = tensors.reduce((a, t) => a + tensorBytes(t.shape, dtype), 0);
  writeFileSync(join(dir, MODEL_INDEX_FILE), JSON.stringify({ metadata: { total_size: totalSize }, weight_map: weightMap }, null, 2) + '\n');
  return [...names, MODEL_INDEX_FILE];
}
