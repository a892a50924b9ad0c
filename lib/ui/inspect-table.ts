import type { Distribution, InspectReport, ValueCounts } from '../data/inspect.js';
import { formatBytes, formatCount } from './format.js';

/** The human form of `loom inspect` (the machine form is its JSON). */
export function formatInspectReport(report: InspectReport): string {
  const out: string[] = [];
  out.push(`records  ${formatCount(report.records)}    bytes  ${formatBytes(report.bytes)}`);
  out.push('', 'field coverage');
  for (const [name, { count, coverage }] of Object.entries(report.fields)) {
    out.push(`  ${name.padEnd(20)} ${percent(coverage).padStart(7)}  ${formatCount(count).padStart(8)}`);
  }
  for (const field of ['lang', 'source'] as const) {
    const counts = report[field];
    if (Object.keys(counts.values).length === 0) continue;
    out.push('', field);
    out.push(...valueRows(counts, report.records));
  }
  if (report.text_chars) {
    out.push('', 'text length (characters)');
    out.push(...distributionRows(report.text_chars));
  }
  for (const [name, dist] of Object.entries(report.scores)) {
    out.push('', `scores.${name}`);
    out.push(...distributionRows(dist));
    for (const bin of dist.histogram ?? []) {
      const bar = '█'.repeat(Math.round((40 * bin.count) / Math.max(dist.count, 1)));
      out.push(`  ${fmt(bin.lo).padStart(9)} … ${fmt(bin.hi).padEnd(9)} ${formatCount(bin.count).padStart(7)} ${bar}`);
    }
  }
  return out.join('\n') + '\n';
}

function valueRows(counts: ValueCounts, records: number): string[] {
  const rows = Object.entries(counts.values).map(([value, n]) => `  ${value.padEnd(20)} ${percent(n / records).padStart(7)}  ${formatCount(n).padStart(8)}`);
  if (counts.other > 0) rows.push(`  ${'(other)'.padEnd(20)} ${percent(counts.other / records).padStart(7)}  ${formatCount(counts.other).padStart(8)}`);
  if (counts.missing > 0) rows.push(`  ${'(missing)'.padEnd(20)} ${percent(counts.missing / records).padStart(7)}  ${formatCount(counts.missing).padStart(8)}`);
  return rows;
}

function distributionRows(dist: Distribution): string[] {
  const cells = [`min ${fmt(dist.min)}`, ...Object.entries(dist.percentiles).map(([p, v]) => `${p} ${fmt(v)}`), `max ${fmt(dist.max)}`, `mean ${fmt(dist.mean)}`];
  return [`  ${cells.join('  ')}`];
}

function percent(share: number): string {
  return `${(100 * share).toFixed(1)}%`;
}

function fmt(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toPrecision(3);
}
