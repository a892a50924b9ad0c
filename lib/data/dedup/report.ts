// The cluster report (`--report FILE`): one JSON line per cluster of two or more documents, in
// the order of the clusters' first documents, the same in streaming and multi-stage mode.
import { closeSync, openSync, writeSync } from 'node:fs';
import { dropReason } from './keep.js';

export interface ClusterTable {
  /** Documents (dense, in input order). */
  n: number;
  root: Int32Array;
  size: Uint32Array;
  best: Int32Array;
  marks: Uint8Array;
  location(i: number): string;
}

/** Members listed per cluster; the size still counts them all. */
export const REPORT_MEMBERS = 100;

export function writeClusterReport(path: string, t: ClusterTable): number {
  // Counting sort of multi-document clusters' members by root, members ascending.
  const start = new Int32Array(t.n + 1);
  for (let i = 0; i < t.n; i++) if (t.size[t.root[i]!]! > 1) start[t.root[i]! + 1]! += 1;
  for (let i = 0; i < t.n; i++) start[i + 1]! += start[i]!;
  const members = new Int32Array(start[t.n]!);
  const fill = start.slice(0, t.n);
  for (let i = 0; i < t.n; i++) if (t.size[t.root[i]!]! > 1) members[fill[t.root[i]!]!++] = i;
  const fd = openSync(path, 'w');
  let buffer = '';
  let clusters = 0;
  try {
    for (let r = 0; r < t.n; r++) {
      const from = start[r]!;
      const to = start[r + 1]!;
      if (to - from < 2) continue;
      clusters += 1;
      const dropped: { doc: string; reason: string }[] = [];
      for (let k = from; k < to && dropped.length < REPORT_MEMBERS; k++) {
        const i = members[k]!;
        if (i !== t.best[r]) dropped.push({ doc: t.location(i), reason: dropReason(t.marks[i]!) });
      }
      buffer += JSON.stringify({ cluster: t.location(r), size: to - from, kept: t.location(t.best[r]!), dropped }) + '\n';
      if (buffer.length > 1 << 20) {
        writeSync(fd, buffer);
        buffer = '';
      }
    }
    writeSync(fd, buffer);
  } finally {
    closeSync(fd);
  }
  return clusters;
}
