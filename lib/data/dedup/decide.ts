// Applies a document's cluster decision: tag it, pass it, or drop it to the rejects with its cluster.
import type { Doc } from '../../io/types.js';
import type { StageContext } from '../../stage.js';

export type DedupMode = 'drop' | 'tag';

export interface Decision {
  /** `file:line` of the cluster's first document. */
  cluster: string;
  size: number;
  kept: boolean;
  /** Why a document that is not kept goes. */
  reason: string;
}

/** The document to emit, or undefined when it was dropped (rejects get it with its `dedup` field). */
export function applyDecision(doc: Doc, decision: Decision, mode: DedupMode, ctx: StageContext): Doc | undefined {
  if (mode === 'tag') {
    doc.dedup = { cluster: decision.cluster, size: decision.size, kept: decision.kept };
    return doc;
  }
  if (decision.kept) return doc;
  doc.dedup = { cluster: decision.cluster, size: decision.size, kept: false };
  ctx.drop(doc, decision.reason);
  return undefined;
}

export function clusterId(file: string, line: number): string {
  return `${file}:${line}`;
}
