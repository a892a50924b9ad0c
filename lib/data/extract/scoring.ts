// How close an extracted text is to a reference main text, as the two public benchmarks score it.
// - Word F1 (WCXB's evaluate.py): bags of lowercase `\w+` tokens, overlap counted with
//   multiplicity, precision, recall and F1 per page; a benchmark averages the per-page figures.
// - 4-gram shingle F1 (ScrapingHub's article-extraction-benchmark, also used by WCXB v1.0): bags of
//   4-token shingles (case kept), tp/fp/fn per page normalized to sum to 1; precision is the mean
//   over pages that predicted something, recall over pages with a reference, F1 their harmonic mean.
// Python's `\w` is letters, digits (any script) and the underscore.

const WORD = /[\p{L}\p{N}_]+/gu;

export function wordTokens(text: string, lowercase: boolean): string[] {
  return (lowercase ? text.toLowerCase() : text).match(WORD) ?? [];
}

export interface PageScore {
  precision: number;
  recall: number;
  f1: number;
}

function overlap(pred: string[], ref: string[]): number {
  const counts = new Map<string, number>();
  for (const t of ref) counts.set(t, (counts.get(t) ?? 0) + 1);
  let shared = 0;
  for (const t of pred) {
    const left = counts.get(t) ?? 0;
    if (left > 0) {
      shared += 1;
      counts.set(t, left - 1);
    }
  }
  return shared;
}

/** WCXB's word-level precision, recall and F1 of one page. */
export function wordF1(predicted: string, reference: string): PageScore {
  const pred = wordTokens(predicted, true);
  const ref = wordTokens(reference, true);
  if (ref.length === 0) return pred.length === 0 ? { precision: 1, recall: 1, f1: 1 } : { precision: 0, recall: 0, f1: 0 };
  if (pred.length === 0) return { precision: 0, recall: 0, f1: 0 };
  const shared = overlap(pred, ref);
  const precision = shared / pred.length;
  const recall = shared / ref.length;
  return { precision, recall, f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0 };
}

/** One page's shingle counts, normalized to sum to 1 (so long pages weigh no more than short ones). */
export interface ShingleCounts {
  tp: number;
  fp: number;
  fn: number;
}

function shingles(text: string, n: number): string[] {
  const tokens = wordTokens(text, false);
  const out: string[] = [];
  for (let i = 0; i < Math.max(1, tokens.length - n + 1); i++) {
    const shingle = tokens.slice(i, i + n);
    if (shingle.length > 0) out.push(shingle.join('\u0001'));
  }
  return out;
}

export function shingleCounts(predicted: string, reference: string, n = 4): ShingleCounts {
  const ref = shingles(reference, n);
  const pred = shingles(predicted, n);
  const tp = overlap(pred, ref);
  const fp = pred.length - tp;
  const fn = ref.length - tp;
  const sum = tp + fp + fn;
  return sum > 0 ? { tp: tp / sum, fp: fp / sum, fn: fn / sum } : { tp, fp, fn };
}

const mean = (xs: number[]) => (xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

/** ScrapingHub's precision, recall and F1 over pages' shingle counts. */
export function shingleF1(pages: ShingleCounts[]): PageScore {
  const precisionOf = ({ tp, fp, fn }: ShingleCounts) => (fp === 0 && fn === 0 ? 1 : tp / (tp + fp));
  const recallOf = ({ tp, fp, fn }: ShingleCounts) => (fp === 0 && fn === 0 ? 1 : tp / (tp + fn));
  const precision = mean(pages.filter((p) => p.tp + p.fp > 0).map(precisionOf));
  const recall = mean(pages.filter((p) => p.tp + p.fn > 0).map(recallOf));
  return { precision, recall, f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0 };
}

/** WCXB's averages of per-page word scores. */
export function meanWordF1(pages: PageScore[]): PageScore {
  return { precision: mean(pages.map((p) => p.precision)), recall: mean(pages.map((p) => p.recall)), f1: mean(pages.map((p) => p.f1)) };
}
