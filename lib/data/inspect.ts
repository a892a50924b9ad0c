import type { Doc } from '../io/types.js';
import { QuantileSketch } from '../util/quantiles.js';

export const PERCENTILES = [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99] as const;
const TOP_VALUES = 20;
const MAX_TRACKED = 10_000;

export interface Distribution {
  count: number;
  min: number;
  max: number;
  mean: number;
  /** Percentiles (and histogram) computed from every value; false past EXACT_LIMIT values, where they come from a sketch within 1%. */
  exact: boolean;
  percentiles: Record<string, number>;
  histogram?: { lo: number; hi: number; count: number }[];
}

export interface InspectReport {
  records: number;
  bytes: number;
  /** Share of records where each top-level field is present and not null. */
  fields: Record<string, { count: number; coverage: number }>;
  lang: ValueCounts;
  source: ValueCounts;
  scores: Record<string, Distribution>;
  /** Text length in characters (Unicode code points). */
  text_chars: Distribution | null;
}

export interface ValueCounts {
  values: Record<string, number>;
  /** Records with a value outside the top entries. */
  other: number;
  missing: number;
}

/** Accumulates the `loom inspect` report over a stream, in bounded memory. */
export class Inspector {
  private records = 0;
  private readonly fieldCounts = new Map<string, number>();
  private readonly categorical = { lang: new Map<string, number>(), source: new Map<string, number>() };
  private readonly scores = new Map<string, QuantileSketch>();
  private readonly textChars = new QuantileSketch();

  add(doc: Doc): void {
    this.records += 1;
    for (const key in doc) {
      if (doc[key] === undefined || doc[key] === null) continue;
      if (this.fieldCounts.has(key) || this.fieldCounts.size < MAX_TRACKED) this.fieldCounts.set(key, (this.fieldCounts.get(key) ?? 0) + 1);
    }
    for (const field of ['lang', 'source'] as const) {
      const value = doc[field];
      if (typeof value === 'string') bump(this.categorical[field], value);
    }
    if (doc.scores && typeof doc.scores === 'object') {
      for (const [name, value] of Object.entries(doc.scores)) {
        if (typeof value !== 'number') continue;
        let sketch = this.scores.get(name);
        if (!sketch && this.scores.size < MAX_TRACKED) this.scores.set(name, (sketch = new QuantileSketch()));
        sketch?.add(value);
      }
    }
    if (typeof doc.text === 'string') this.textChars.add(codePointLength(doc.text));
  }

  report(bytes: number): InspectReport {
    const fields: InspectReport['fields'] = {};
    for (const [name, count] of [...this.fieldCounts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) {
      fields[name] = { count, coverage: count / this.records };
    }
    const scores: InspectReport['scores'] = {};
    for (const name of [...this.scores.keys()].sort()) scores[name] = distribution(this.scores.get(name)!, 10);
    return {
      records: this.records,
      bytes,
      fields,
      lang: valueCounts(this.categorical.lang, this.records),
      source: valueCounts(this.categorical.source, this.records),
      scores,
      text_chars: this.textChars.count > 0 ? distribution(this.textChars) : null,
    };
  }
}

function bump(map: Map<string, number>, value: string): void {
  // Past MAX_TRACKED distinct values only known ones are counted; the rest land in "other".
  if (map.has(value) || map.size < MAX_TRACKED) map.set(value, (map.get(value) ?? 0) + 1);
}

function valueCounts(map: Map<string, number>, records: number): ValueCounts {
  const sorted = [...map].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const values = Object.fromEntries(sorted.slice(0, TOP_VALUES));
  const present = sorted.reduce((n, [, c]) => n + c, 0);
  const shown = sorted.slice(0, TOP_VALUES).reduce((n, [, c]) => n + c, 0);
  return { values, other: present - shown, missing: records - present };
}

function distribution(sketch: QuantileSketch, bins?: number): Distribution {
  const percentiles: Record<string, number> = {};
  for (const q of PERCENTILES) percentiles[`p${Math.round(q * 100)}`] = sketch.quantile(q);
  return {
    count: sketch.count,
    min: sketch.min,
    max: sketch.max,
    mean: sketch.mean,
    exact: sketch.exact,
    percentiles,
    ...(bins ? { histogram: sketch.histogram(bins) } : {}),
  };
}

function codePointLength(text: string): number {
  let surrogatePairs = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) surrogatePairs += 1;
  }
  return text.length - surrogatePairs;
}
