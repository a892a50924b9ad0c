// Binary token shards (DESIGN.md "Token shards"): a 256-byte little-endian header, then the tokens.
//
//   offset size  field
//        0    8  magic "LOOMTOK\0"
//        8    4  format version (1)
//       12    4  header size in bytes (256): tokens start here
//       16    4  bytes per token: 2 (uint16, vocabularies up to 65,536 ids) or 4 (uint32)
//       20    4  vocabulary size (number of ids)
//       24    8  token count (uint64)
//       32    4  id of <|endoftext|>
//       36    4  sequence length the writer packed for (windows below; a reader may choose another)
//       40   32  vocabulary hash (sha256, raw bytes; hex in manifest.json)
//       72  184  zero
//
// A shard is a flat token stream, like llm.c's .bin shards: window i of length T is tokens
// [i·T, i·T+T+1): T inputs and, shifted by one, T next-token targets, so a shard of n tokens has
// floor((n-1)/T) windows. Writers fill shards with k·T+1 tokens and start the next shard with the
// previous one's last token, so every token transition of the stream is a target exactly once.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { DataError } from '../errors.js';

export const SHARD_MAGIC = 'LOOMTOK\0';
export const SHARD_VERSION = 1;
export const HEADER_BYTES = 256;

export interface ShardHeader {
  version: number;
  bytesPerToken: 2 | 4;
  vocabSize: number;
  tokens: number;
  eot: number;
  seqLen: number;
  /** Hex sha256 of the vocabulary (vocabularyHash). */
  vocabHash: string;
}

export function bytesPerTokenFor(vocabSize: number): 2 | 4 {
  return vocabSize <= 65_536 ? 2 : 4;
}

export function encodeHeader(header: Omit<ShardHeader, 'version'>): Buffer {
  const buf = Buffer.alloc(HEADER_BYTES);
  buf.write(SHARD_MAGIC, 0, 'latin1');
  buf.writeUInt32LE(SHARD_VERSION, 8);
  buf.writeUInt32LE(HEADER_BYTES, 12);
  buf.writeUInt32LE(header.bytesPerToken, 16);
  buf.writeUInt32LE(header.vocabSize, 20);
  buf.writeBigUInt64LE(BigInt(header.tokens), 24);
  buf.writeUInt32LE(header.eot, 32);
  buf.writeUInt32LE(header.seqLen, 36);
  Buffer.from(header.vocabHash, 'hex').copy(buf, 40);
  return buf;
}

export function decodeHeader(buf: Buffer, source: string): ShardHeader {
  if (buf.length < HEADER_BYTES || buf.toString('latin1', 0, 8) !== SHARD_MAGIC) throw new DataError(`${source}: not a loom token shard (bad magic)`);
  const version = buf.readUInt32LE(8);
  if (version !== SHARD_VERSION) throw new DataError(`${source}: token shard version ${version}; this loom reads version ${SHARD_VERSION}`);
  if (buf.readUInt32LE(12) !== HEADER_BYTES) throw new DataError(`${source}: unexpected header size ${buf.readUInt32LE(12)}`);
  const bytesPerToken = buf.readUInt32LE(16);
  if (bytesPerToken !== 2 && bytesPerToken !== 4) throw new DataError(`${source}: unsupported token width ${bytesPerToken}`);
  return {
    version,
    bytesPerToken,
    vocabSize: buf.readUInt32LE(20),
    tokens: Number(buf.readBigUInt64LE(24)),
    eot: buf.readUInt32LE(32),
    seqLen: buf.readUInt32LE(36),
    vocabHash: buf.subarray(40, 72).toString('hex'),
  };
}

/**
 * Reads one shard by positioned reads (pread), so any window costs one read and nothing else of
 * the file is loaded. Close it when done.
 */
export class TokenShardReader {
  readonly header: ShardHeader;
  private fd: number | undefined;

  constructor(readonly path: string, expect: { vocabHash?: string } = {}) {
    this.fd = openSync(path, 'r');
    try {
      const head = Buffer.alloc(HEADER_BYTES);
      readSync(this.fd, head, 0, HEADER_BYTES, 0);
      this.header = decodeHeader(head, path);
      const size = fstatSync(this.fd).size;
      const expected = HEADER_BYTES + this.header.tokens * this.header.bytesPerToken;
      if (size !== expected) throw new DataError(`${path}: file is ${size} bytes, header promises ${expected} (truncated or still being written)`);
      if (expect.vocabHash && expect.vocabHash !== this.header.vocabHash) {
        throw new DataError(`${path}: tokenized with vocabulary ${this.header.vocabHash.slice(0, 12)}…, expected ${expect.vocabHash.slice(0, 12)}…`);
      }
    } catch (err) {
      this.close();
      throw err;
    }
  }

  get tokenCount(): number {
    return this.header.tokens;
  }

  windowCount(seqLen = this.header.seqLen): number {
    return Math.max(0, Math.floor((this.header.tokens - 1) / seqLen));
  }

  /** Tokens [start, start+count) as uint32, whatever the stored width. */
  read(start: number, count: number): Uint32Array {
    if (start < 0 || count < 0 || start + count > this.header.tokens) throw new RangeError(`${this.path}: tokens [${start}, ${start + count}) out of range (0…${this.header.tokens})`);
    if (this.fd === undefined) throw new Error(`${this.path}: reader is closed`);
    const width = this.header.bytesPerToken;
    const bytes = Buffer.alloc(count * width);
    let done = 0;
    while (done < bytes.length) {
      const n = readSync(this.fd, bytes, done, bytes.length - done, HEADER_BYTES + start * width + done);
      if (n === 0) throw new DataError(`${this.path}: unexpected end of file`);
      done += n;
    }
    if (width === 4) return new Uint32Array(bytes.buffer, bytes.byteOffset, count).slice();
    return Uint32Array.from(new Uint16Array(bytes.buffer, bytes.byteOffset, count));
  }

  /** Window i: seqLen+1 tokens; inputs are [0, seqLen), targets [1, seqLen+1). */
  window(index: number, seqLen = this.header.seqLen): Uint32Array {
    if (!Number.isInteger(index) || index < 0 || index >= this.windowCount(seqLen)) throw new RangeError(`${this.path}: window ${index} out of range (0…${this.windowCount(seqLen) - 1})`);
    return this.read(index * seqLen, seqLen + 1);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
