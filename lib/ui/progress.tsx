import { Text, renderToString } from 'ink';
import type { ProgressDisplay, ProgressSnapshot } from '../cli/progress.js';
import { FIELD_SEPARATOR, fitFields, type Field } from './fit.js';
import { formatBytes, formatCount, formatDuration } from './format.js';
import { startLiveRegion, type LiveRegionOptions } from './live-region.js';

/**
 * The status line's fields, most important first in priority: the stage, how far it is, the
 * counters (in the run summary's words), then rates, time and the stage's own counters.
 */
export function statusFields(snap: ProgressSnapshot, seconds: number): Field[] {
  const elapsed = Math.max(seconds, 1e-9);
  const known = snap.totalBytes !== undefined && snap.totalBytes > 0 && snap.bytes <= snap.totalBytes;
  const bytesPerSecond = snap.bytes / elapsed;
  const fields: Field[] = [{ text: snap.label, priority: 0, color: 'cyan' }];
  if (known) {
    fields.push({ text: `${Math.floor((100 * snap.bytes) / snap.totalBytes!)}%`, priority: 1 });
    // Readers run ahead of the stage: once all is read, what is left is work in flight, of no known length.
    if (snap.bytes > 0 && snap.bytes < snap.totalBytes!) fields.push({ text: `ETA ${formatDuration((snap.totalBytes! - snap.bytes) / bytesPerSecond)}`, priority: 2 });
  }
  fields.push({ text: `${formatCount(snap.records)} in`, priority: 3 }, { text: `${formatCount(snap.out)} out`, priority: 4 });
  if (snap.dropped > 0) fields.push({ text: `${formatCount(snap.dropped)} dropped`, priority: 5, color: 'yellow' });
  if (snap.rejected > 0) fields.push({ text: `${formatCount(snap.rejected)} rejected lines`, priority: 5, color: 'yellow' });
  fields.push(
    { text: `${formatBytes(bytesPerSecond)}/s`, priority: 6, dim: true },
    { text: `${formatCount(snap.records / elapsed)} rec/s`, priority: 7, dim: true },
    { text: formatDuration(seconds), priority: 8, dim: true },
  );
  for (const [key, value] of Object.entries(snap.extra ?? {})) fields.push({ text: `${key} ${formatCount(value)}`, priority: 9, dim: true });
  return fields;
}

/** Fields on one line, joined with ` · `; fit them first (fitFields). */
export function FieldLine({ fields }: { fields: readonly Field[] }) {
  return (
    <Text wrap="truncate-end">
      {fields.map((f, i) => (
        <Text key={i} color={f.color} dimColor={f.dim}>
          {i > 0 ? FIELD_SEPARATOR : ''}
          {f.text}
        </Text>
      ))}
    </Text>
  );
}

/**
 * A status line at the bottom of the terminal (stderr), redrawn in place; log lines and data written
 * meanwhile print above it and stay. Erased when stopped.
 */
export function startStatusLine(snapshot: () => ProgressSnapshot, opts: LiveRegionOptions = {}): ProgressDisplay {
  const start = performance.now();
  const region = startLiveRegion(
    (width) => renderToString(<FieldLine fields={fitFields(statusFields(snapshot(), (performance.now() - start) / 1000), width)} />, { columns: width }),
    { sharing: [process.stdout], ...opts },
  );
  return { stop: async () => region.stop() };
}
