// The keep policy: which member of a cluster survives. Deterministic: ties go to the earliest
// document, and exact or URL duplicates are never chosen (their first occurrence is a member).
import type { Doc } from '../../io/types.js';
import type { KeepPolicy } from './options.js';

/** The number a policy ranks documents by (higher wins); undefined for `first`. */
export function rankOf(doc: Doc, keep: KeepPolicy): number {
  if (keep === 'longest') return typeof doc.text === 'string' ? doc.text.length : 0;
  if (keep.startsWith('score:')) {
    const value = doc.scores?.[keep.slice(6)];
    return typeof value === 'number' && Number.isFinite(value) ? value : -Infinity;
  }
  return 0;
}

/** Whether candidate (rank, order) beats the current best (rank, order). */
export function beats(rank: number, order: number, bestRank: number, bestOrder: number): boolean {
  return rank > bestRank || (rank === bestRank && order < bestOrder);
}

/** Marks of a document that lost to an earlier identical one; such a document is never kept. */
export const EXACT_DUP = 1;
export const URL_DUP = 2;

export function dropReason(marks: number): string {
  if (marks & EXACT_DUP) return 'exact-duplicate';
  if (marks & URL_DUP) return 'url-duplicate';
  return 'near-duplicate';
}
