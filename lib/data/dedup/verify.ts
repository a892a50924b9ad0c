// Exact-Jaccard verification of LSH candidate pairs (streaming `--verify`). A pair's two
// documents may be far apart in the input, so shingle sets are not held in memory: one more pass
// over the spilled documents writes the sorted, distinct shingle hashes of every document that is
// in some candidate pair to a temporary file (offset and count per document: 12 bytes), and
// each pair is then checked by reading its two sets back. Memory stays per-document constant.
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { readDocs } from '../../io/read.js';
import { HashBuffer, ngramUnitFor, shingleHashes } from '../../text/ngrams.js';
import type { DedupIndex } from './index.js';
import type { DedupParams } from './options.js';

export async function verifyCandidates(
  index: DedupIndex,
  spillPath: string,
  params: Pick<DedupParams, 'ngram' | 'charNgram'>,
  threshold: number,
): Promise<{ checked: number; confirmed: number }> {
  const pairs = index.candidates!;
  const n = index.size;
  const needed = new Uint8Array(n);
  for (let k = 0; k < pairs.length; k++) needed[pairs.get(k)] = 1;
  const offset = new Float64Array(n);
  const count = new Uint32Array(n);
  const setsPath = join(spillPath, '..', 'shingles.bin');
  const fd = openSync(setsPath, 'w+');
  try {
    const buffer = new HashBuffer();
    let position = 0;
    let i = 0;
    for await (const doc of readDocs([spillPath])) {
      if (needed[i] && typeof doc.text === 'string') {
        const unit = ngramUnitFor(doc.text, doc.lang);
        const m = shingleHashes(doc.text, unit === 'char' ? params.charNgram : params.ngram, unit, buffer);
        const set = distinctSorted(buffer.data.subarray(0, m));
        offset[i] = position;
        count[i] = set.length;
        position += writeSync(fd, set, 0, set.byteLength, position);
      }
      i += 1;
    }
    let confirmed = 0;
    for (let k = 0; k < pairs.length; k += 2) {
      const a = pairs.get(k);
      const b = pairs.get(k + 1);
      if (jaccard(readSet(fd, offset[a]!, count[a]!), readSet(fd, offset[b]!, count[b]!)) >= threshold) {
        index.uf.union(a, b);
        confirmed += 1;
      }
    }
    return { checked: pairs.length / 2, confirmed };
  } finally {
    closeSync(fd);
  }
}

function distinctSorted(values: Uint32Array): Uint32Array {
  const sorted = Uint32Array.from(values).sort();
  let m = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[m - 1]) sorted[m++] = sorted[i]!;
  return sorted.subarray(0, m);
}

function readSet(fd: number, position: number, count: number): Uint32Array {
  const set = new Uint32Array(count);
  if (count > 0) readSync(fd, set, 0, set.byteLength, position);
  return set;
}

/** |A ∩ B| / |A ∪ B| of two sorted distinct arrays. */
export function jaccard(a: Uint32Array, b: Uint32Array): number {
  if (a.length === 0 && b.length === 0) return 1;
  let i = 0;
  let j = 0;
  let common = 0;
  while (i < a.length && j < b.length) {
    if (a[i]! < b[j]!) i++;
    else if (a[i]! > b[j]!) j++;
    else {
      common++;
      i++;
      j++;
    }
  }
  return common / (a.length + b.length - common);
}
