// Transparent compression. gzip uses node:zlib. Node 20 has no zstd in zlib, so zstd is decoded
// by fzstd (pure JS, streaming, multi-frame) and encoded by @bokuweb/zstd-wasm (the reference
// libzstd compiled to WebAssembly), one independent frame per block: concatenated frames are a
// valid zstd stream that `zstd -d` and every other decoder read.
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import { Decompress as ZstdDecompress } from 'fzstd';
import zstdWasm from '@bokuweb/zstd-wasm';

export type Compression = 'none' | 'gzip' | 'zstd';

const GZIP_MAGIC = [0x1f, 0x8b];
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

/** Detects compression from the first bytes; extensions are not trusted. */
export function detectCompression(head: Uint8Array): Compression {
  const starts = (magic: number[]) => magic.every((byte, i) => head[i] === byte);
  if (starts(GZIP_MAGIC)) return 'gzip';
  if (starts(ZSTD_MAGIC)) return 'zstd';
  return 'none';
}

/** The compression an output path asks for by its extension. */
export function compressionForPath(path: string): Compression {
  if (/\.gz$/i.test(path)) return 'gzip';
  if (/\.zst$/i.test(path)) return 'zstd';
  return 'none';
}

export function extensionFor(compression: Compression): string {
  return compression === 'gzip' ? '.gz' : compression === 'zstd' ? '.zst' : '';
}

/**
 * Yields the decompressed bytes of a byte stream, whatever its compression. Pulls from the source
 * only as fast as the consumer reads, so memory stays bounded.
 */
export async function* decodedChunks(source: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  const iterator = source[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  let done = false;
  while (head.length < 4 && !done) {
    const next = await iterator.next();
    if (next.done) done = true;
    else head = Buffer.concat([head, next.value]);
  }
  async function* rest(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    while (!done) {
      const next = await iterator.next();
      if (next.done) break;
      yield Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
    }
  }
  const compression = detectCompression(head);
  if (compression === 'none') {
    yield* rest();
    return;
  }
  try {
    yield* throughTransform(rest(), compression === 'gzip' ? createGunzip() : new ZstdDecodeStream());
  } catch (err) {
    throw damagedData(compression, err);
  }
}

/** Compressed input that ends early or does not decode; what was decoded before it was delivered. */
export class DamagedDataError extends Error {
  constructor(
    readonly compression: Compression,
    readonly truncated: boolean,
    detail?: string,
  ) {
    super(truncated ? `truncated ${compression}` : `corrupt ${compression} data (${detail})`);
    this.name = 'DamagedDataError';
  }
}

// zlib marks its errors with a Z_* code (Z_BUF_ERROR: the data ended inside the stream); fzstd
// numbers its own (5: unexpected end of input).
const FZSTD_EOF = 5;

function damagedData(compression: Compression, err: unknown): unknown {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: string };
  if (compression === 'gzip' && typeof code === 'string' && code.startsWith('Z_')) {
    return new DamagedDataError('gzip', code === 'Z_BUF_ERROR', message);
  }
  if (err instanceof ZstdDataError) return new DamagedDataError('zstd', err.code === FZSTD_EOF, err.detail);
  return err;
}

async function* throughTransform(input: AsyncIterable<Buffer>, transform: Transform): AsyncGenerator<Buffer> {
  const feeding = (async () => {
    for await (const chunk of input) {
      if (!transform.write(chunk)) await waitForDrain(transform);
    }
    transform.end();
  })();
  feeding.catch((err) => transform.destroy(err));
  for await (const chunk of transform) yield chunk as Buffer;
  await feeding;
}

function waitForDrain(stream: Transform): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      stream.off('drain', onDrain);
      stream.off('error', onError);
      stream.off('close', onDrain);
    };
    const onDrain = () => { cleanup(); resolve(); };
    const onError = (err: Error) => { cleanup(); reject(err); };
    stream.once('drain', onDrain);
    stream.once('error', onError);
    stream.once('close', onDrain);
  });
}

class ZstdDecodeStream extends Transform {
  private readonly decoder = new ZstdDecompress((chunk) => {
    this.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  });
  private sawInput = false;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.sawInput = true;
      this.decoder.push(chunk);
      callback();
    } catch (err) {
      callback(zstdError(err));
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      if (this.sawInput) this.decoder.push(new Uint8Array(0), true);
      callback();
    } catch (err) {
      callback(zstdError(err));
    }
  }
}

class ZstdDataError extends Error {
  readonly code: unknown;
  constructor(readonly detail: string, code: unknown) {
    super(`zstd: ${detail}`);
    this.code = code;
  }
}

function zstdError(err: unknown): Error {
  return new ZstdDataError(err instanceof Error ? err.message : String(err), (err as { code?: unknown })?.code);
}

const ZSTD_BLOCK = 4 << 20;
let zstdReady: Promise<void> | undefined;

/** Buffers up to 4 MiB and emits each block as an independent zstd frame. */
class ZstdEncodeStream extends Transform {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  constructor(private readonly level: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= ZSTD_BLOCK) this.emitFrame().then(() => callback(), callback);
    else callback();
  }

  override _flush(callback: TransformCallback): void {
    this.emitFrame().then(() => callback(), callback);
  }

  private async emitFrame(): Promise<void> {
    if (this.pendingBytes === 0) return;
    zstdReady ??= zstdWasm.init();
    await zstdReady;
    const block = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.push(Buffer.from(zstdWasm.compress(block, this.level)));
  }
}

/** A transform that compresses bytes written to it, or undefined for `none`. */
export function createEncoder(compression: Compression, level?: number): Transform | undefined {
  if (compression === 'gzip') return createGzip({ level: level ?? 6, memLevel: 9, chunkSize: 64 * 1024 });
  if (compression === 'zstd') return new ZstdEncodeStream(level ?? 3);
  return undefined;
}

/** Decodes a whole readable (used by tests and small files). */
export async function readAllDecoded(source: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of decodedChunks(source)) chunks.push(chunk);
  return Buffer.concat(chunks);
}
