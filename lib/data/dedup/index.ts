// The streaming dedup state: per document a union-find parent, its location, its marks and (for
// `longest`/`score:`) its rank; one hash table from every band hash, exact hash and URL hash to
// the first document that had it. No text is held. See docs/dedup.md for the bytes per document.
import { Column, float64Column, int32Column, uint32Column, uint8Column } from './columns.js';
import { EXACT_DUP, URL_DUP, beats } from './keep.js';
import type { KeepPolicy } from './options.js';
import { BANDS_AT, EXACT_AT, HAS_EXACT, HAS_SHINGLES, HAS_URL, URL_AT } from './signature.js';
import { HashTable64 } from './table.js';
import { UnionFind } from './union-find.js';

export interface Location {
  fileIndex: number;
  line: number;
}

export class DedupIndex {
  readonly uf = new UnionFind();
  readonly files: string[] = [];
  private readonly fileIndexOf = new Map<string, number>();
  readonly fileIndex = uint32Column();
  readonly line = uint32Column();
  readonly marks = uint8Column();
  readonly rank?: Column<Float64Array>;
  private readonly table = new HashTable64();
  /** Candidate pairs (earlier, later) awaiting exact-Jaccard verification; only with verify. */
  readonly candidates?: Column<Int32Array>;
  private readonly heads: number[] = [];
  counts = { exact: 0, url: 0, nearPairs: 0, noShingles: 0 };

  constructor(
    private readonly bands: number,
    readonly keep: KeepPolicy,
    verify: boolean,
  ) {
    if (keep !== 'first') this.rank = float64Column();
    if (verify) this.candidates = int32Column();
  }

  fileNumber(file: string): number {
    let index = this.fileIndexOf.get(file);
    if (index === undefined) {
      index = this.files.length;
      this.files.push(file);
      this.fileIndexOf.set(file, index);
    }
    return index;
  }

  get size(): number {
    return this.uf.size;
  }

  /** Adds the next document (input order) from its signature row; returns its index. */
  add(rows: Uint32Array, at: number, fileIndex: number, line: number, rank: number): number {
    const i = this.uf.add();
    this.fileIndex.push(fileIndex);
    this.line.push(line);
    this.rank?.push(rank);
    let marks = 0;
    const flags = rows[at]!;
    if (flags & HAS_EXACT) {
      const first = this.table.getOrInsert(rows[at + EXACT_AT]!, rows[at + EXACT_AT + 1]!, i);
      if (first >= 0) {
        this.uf.union(first, i);
        marks |= EXACT_DUP;
        this.counts.exact += 1;
      }
    }
    if (flags & HAS_URL) {
      const first = this.table.getOrInsert(rows[at + URL_AT]!, rows[at + URL_AT + 1]!, i);
      if (first >= 0) {
        this.uf.union(first, i);
        marks |= URL_DUP;
        this.counts.url += 1;
      }
    }
    if (flags & HAS_SHINGLES) {
      this.heads.length = 0;
      for (let band = 0; band < this.bands; band++) {
        const o = at + BANDS_AT + 2 * band;
        const head = this.table.getOrInsert(rows[o]!, rows[o + 1]!, i);
        if (head < 0 || this.heads.includes(head)) continue;
        this.heads.push(head);
        this.counts.nearPairs += 1;
        if (this.candidates) {
          this.candidates.push(head);
          this.candidates.push(i);
        } else this.uf.union(head, i);
      }
    } else this.counts.noShingles += 1;
    this.marks.push(marks);
    return i;
  }

  /** Resolves every document to its cluster root and picks each cluster's kept document. */
  finalize(): Clustering {
    return resolveClusters(this.uf, this.marks.data, this.rank?.data);
  }

  get bytes(): number {
    const columns = [this.fileIndex, this.line, this.marks, this.rank, this.candidates];
    return this.uf.bytes + this.table.bytes + columns.reduce((sum, c) => sum + (c?.data.byteLength ?? 0), 0);
  }
}

/** The final clusters: per document its root (the cluster's first document), per root the size and the kept document. */
export interface Clustering {
  root: Int32Array;
  size: Uint32Array;
  best: Int32Array;
}

/** Roots, sizes and the keep policy's choice (highest rank, ties to the earliest; never a marked duplicate). */
export function resolveClusters(uf: UnionFind, marks: Uint8Array, rank?: Float64Array): Clustering {
  const n = uf.size;
  const root = new Int32Array(n);
  const size = new Uint32Array(n);
  const best = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    const r = uf.find(i);
    root[i] = r;
    size[r]! += 1;
    if (marks[i]! & (EXACT_DUP | URL_DUP)) continue;
    const b = best[r]!;
    if (b < 0 || (rank && beats(rank[i]!, i, rank[b]!, b))) best[r] = i;
  }
  return { root, size, best };
}
