// bench/io: JSONL read → parse → serialize → write throughput, plain and gzip, against `cat` and
// `gzip -dc | gzip` on the same file in the same run; and, in this process, the serializer of a
// stage that adds a field to every record (it re-serializes only that field) against
// JSON.stringify of the whole record. Prints one JSON line.
//   node --import tsx bench/io.ts [--mb 1000] [--dir /tmp/loom-bench-io]
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readDocs } from '../lib/io/read.js';
import type { Doc } from '../lib/io/types.js';
import { jsonLine, writeWithBackpressure } from '../lib/io/write.js';
import { createRandom } from '../lib/util/random.js';

const { values } = parseArgs({ options: { mb: { type: 'string', default: '1000' }, dir: { type: 'string', default: '/tmp/loom-bench-io' } } });
const targetBytes = Number(values.mb) * 1e6;
const dir = values.dir!;
mkdirSync(dir, { recursive: true });
const loom = fileURLToPath(new URL('../dist/bin/loom.js', import.meta.url));
if (!existsSync(loom)) throw new Error('build first: npm run build');

const plain = join(dir, `docs-${values.mb}MB.jsonl`);
const gz = `${plain}.gz`;
if (!existsSync(plain)) await generate(plain, targetBytes);
if (!existsSync(gz)) sh(`gzip -c "${plain}" > "${gz}"`);
const bytes = statSync(plain).size;

const results = {
  bench: 'io',
  input_mb: round(bytes / 1e6),
  gzip_mb: round(statSync(gz).size / 1e6),
  plain: { loom_mb_s: mbPerSecond(`node "${loom}" cat --quiet "${plain}" > /dev/null`), peer: 'cat', peer_mb_s: mbPerSecond(`cat "${plain}" > /dev/null`) },
  gzip: {
    loom_mb_s: mbPerSecond(`node "${loom}" cat --quiet "${gz}" --out "${join(dir, 'out')}" --shard-size 100GB && rm -rf "${join(dir, 'out')}"`),
    peer: 'gzip -dc | gzip',
    peer_mb_s: mbPerSecond(`gzip -dc "${gz}" | gzip -c > /dev/null`),
  },
  add_field: { loom_mb_s: await addFieldMbPerSecond(jsonLine), peer: 'JSON.stringify', peer_mb_s: await addFieldMbPerSecond((doc) => JSON.stringify(doc) + '\n') },
  machine: `${spawnSync('nproc').stdout.toString().trim()} cores, node ${process.version}`,
};
const ratio = (r: { loom_mb_s: number; peer_mb_s: number }) => round(r.loom_mb_s / r.peer_mb_s);
const withRatio = <R extends { loom_mb_s: number; peer_mb_s: number }>(r: R) => ({ ...r, ratio: ratio(r) });
console.log(JSON.stringify({ ...results, plain: withRatio(results.plain), gzip: withRatio(results.gzip), add_field: withRatio(results.add_field) }));
if (process.env.LOOM_BENCH_KEEP !== '1') rmSync(dir, { recursive: true, force: true });

/** Throughput in uncompressed MB/s of a shell command over the bench file (best of two runs). */
function mbPerSecond(command: string): number {
  let best = Infinity;
  for (let run = 0; run < 2; run++) {
    const start = performance.now();
    sh(command);
    best = Math.min(best, (performance.now() - start) / 1000);
  }
  return round(bytes / 1e6 / best);
}

/**
 * In this process: read, add a field to every record, serialize (best of two runs). What a stage
 * such as langid or `dedup --mode tag` spends outside its own work.
 */
async function addFieldMbPerSecond(serialize: (doc: Doc) => string): Promise<number> {
  let best = Infinity;
  for (let run = 0; run < 2; run++) {
    const start = performance.now();
    let chars = 0;
    for await (const doc of readDocs([plain])) {
      doc.tag = 'x';
      chars += serialize(doc).length;
    }
    if (chars === 0) throw new Error('nothing serialized');
    best = Math.min(best, (performance.now() - start) / 1000);
  }
  return round(bytes / 1e6 / best);
}

function sh(command: string): void {
  const result = spawnSync('bash', ['-c', `set -o pipefail; ${command}`], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (result.status !== 0) throw new Error(`failed: ${command}`);
}

/** Web-document-shaped records: id, url, a few paragraphs of text, a language, scores. */
async function generate(path: string, size: number): Promise<void> {
  const random = createRandom(1);
  const words = 'the of and to in is that for it as was with be by on not he this are or his from at which but have an they you were'.split(' ');
  const out = createWriteStream(path);
  let written = 0;
  for (let i = 0; written < size; i++) {
    const length = 200 + random.int(2000);
    let text = '';
    while (text.length < length) text += words[random.int(words.length)] + (random.int(15) === 0 ? '.\n' : ' ');
    const line = JSON.stringify({ id: `doc-${i}`, url: `https://example.com/${i}`, text, lang: 'en', scores: { quality: random.next() } }) + '\n';
    written += Buffer.byteLength(line);
    await writeWithBackpressure(out, line);
  }
  await new Promise<void>((resolve) => out.end(() => resolve()));
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
