// The package entry point: stages and the stream layer, for scripts run with `loom run` or any
// TypeScript program. A stage is `(docs: AsyncIterable<Doc>, opts) => AsyncIterable<Doc>`.
export type { Doc, Location, OnError } from './io/types.js';
export { DataError, UsageError } from './io/errors.js';
export { readDocs, readSource, ReadCounters } from './io/read.js';
export { writeJsonl, WriteCounters, jsonLine } from './io/write.js';
export { writeShards, parseShardSize, type ShardSize } from './io/shards.js';
export { readManifest, type ShardManifest } from './io/manifest.js';
export { RejectSink } from './io/rejects.js';
export { locationOf } from './io/location.js';
export { detectCompression, decodedChunks, createEncoder, type Compression } from './io/compression.js';
export { defineStage, StageRun, StageCounters, type Stage, type StageContext } from './stage.js';
export { sample, type SampleOptions } from './data/sample.js';
export { Inspector, type InspectReport } from './data/inspect.js';
export { createRandom, type Random } from './util/random.js';
export { VERSION } from './version.js';
