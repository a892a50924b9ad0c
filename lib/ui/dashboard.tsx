// The training dashboard (TTY only): how far the run is, the latest step figures, validation loss
// and charts of chosen step figures (the loss; PPO's reward and KL), at the bottom of stderr; the
// run's log lines print above it and stay.
// Metrics JSONL still goes to stdout or --metrics.
import { Box, Text, renderToString } from 'ink';
import type { MetricsRecord, StepRecord } from '../train/metrics.js';
import { fitFields, type Field } from './fit.js';
import { formatCount, formatDuration } from './format.js';
import { startLiveRegion, type LiveRegionOptions } from './live-region.js';
import { FieldLine } from './progress.js';

const REDRAW_MS = 250;
const CHART_ROWS = 8;
const BLOCKS = ' ▁▂▃▄▅▆▇█';

/** A step figure drawn as a chart (and shown in the figures line when it is not the loss). */
export interface ChartSpec {
  key: string;
  label: string;
}

const LOSS_CHART: ChartSpec[] = [{ key: 'loss', label: 'loss' }];

export interface DashboardState {
  steps: StepRecord[];
  val: { step: number; loss: number }[];
  /** The first and the latest step seen, and when (ms): the step rate behind the ETA. */
  first?: { step: number; at: number };
  latest?: { step: number; at: number };
}

/** Rows of a column chart of `values` (newest on the right), `width` columns, scaled to min..max. */
export function lossChart(values: number[], width: number, rows = CHART_ROWS): string[] {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return [];
  // Each column is the mean of its bucket, so the whole run fits the width.
  const buckets = Math.min(width, finite.length);
  const cols = Array.from({ length: buckets }, (_, i) => {
    const from = Math.floor((i * finite.length) / buckets), to = Math.floor(((i + 1) * finite.length) / buckets);
    const part = finite.slice(from, Math.max(to, from + 1));
    return part.reduce((a, b) => a + b, 0) / part.length;
  });
  const lo = Math.min(...cols), hi = Math.max(...cols);
  const span = hi - lo || 1;
  const lines: string[] = [];
  for (let r = rows - 1; r >= 0; r--) {
    let line = '';
    for (const v of cols) {
      const eighths = Math.round(((v - lo) / span) * (rows * 8 - 1)) + 1 - r * 8;
      line += BLOCKS[Math.max(0, Math.min(8, eighths))];
    }
    lines.push(line);
  }
  return lines;
}

/**
 * The figures line: the step (of `totalSteps`, with a percentage and an ETA when it is known) and
 * the loss first; rates and optimizer figures give way when the terminal is narrow.
 */
export function dashboardFields(s: DashboardState, totalSteps?: number, charts: readonly ChartSpec[] = LOSS_CHART): Field[] {
  const last = s.steps[s.steps.length - 1];
  if (!last) return [{ text: 'starting…', priority: 0, dim: true }];
  const fields: Field[] = [{ text: totalSteps ? `step ${last.step}/${totalSteps}` : `step ${last.step}`, priority: 0, color: 'cyan' }];
  if (totalSteps) {
    fields.push({ text: `${((100 * last.step) / totalSteps).toFixed(1)}%`, priority: 2 });
    const { first, latest } = s;
    const stepsPerMs = first && latest && latest.step > first.step ? (latest.step - first.step) / (latest.at - first.at) : 0;
    if (stepsPerMs > 0) fields.push({ text: `ETA ${formatDuration(Math.max(0, totalSteps - last.step) / stepsPerMs / 1000)}`, priority: 3 });
  }
  fields.push({ text: `loss ${last.loss.toFixed(4)}`, priority: 1 });
  for (const c of charts) {
    const v = figure(last, c.key);
    if (c.key !== 'loss' && Number.isFinite(v)) fields.push({ text: `${c.label} ${v.toFixed(4)}`, priority: 1, color: 'yellow' });
  }
  const val = s.val[s.val.length - 1];
  if (val) fields.push({ text: `val ${val.loss.toFixed(4)}`, priority: 4, color: 'green' });
  fields.push(
    { text: `${formatCount(last.tokens_per_s)} tok/s`, priority: 5, dim: true },
    { text: `lr ${last.lr.toExponential(2)}`, priority: 7, dim: true },
    { text: `|g| ${last.grad_norm.toFixed(3)}`, priority: 6, dim: true },
  );
  if (last.mfu !== null) fields.push({ text: `MFU ${(last.mfu * 100).toFixed(1)}%`, priority: 8, dim: true });
  fields.push({ text: `${formatCount(last.tokens)} tokens`, priority: 9, dim: true });
  return fields;
}

function figure(r: StepRecord, key: string): number {
  const v = (r as unknown as Record<string, unknown>)[key];
  return typeof v === 'number' ? v : NaN;
}

function Chart({ label, values, width, rows }: { label: string; values: number[]; width: number; rows: number }) {
  // The chart and its 7-column axis labels stay inside the width.
  const chart = lossChart(values, Math.max(10, Math.min(100, width - 8)), rows);
  if (chart.length === 0) return null;
  return (
    <Box>
      <Box flexDirection="column" marginRight={1}>
        <Text dimColor>{Math.max(...values).toFixed(2).padStart(7)}</Text>
        <Text dimColor>{label.slice(0, 7).padStart(7)}</Text>
        {Array.from({ length: rows - 3 }, (_, i) => (
          <Text key={i}> </Text>
        ))}
        <Text dimColor>{Math.min(...values).toFixed(2).padStart(7)}</Text>
      </Box>
      <Box flexDirection="column">
        {chart.map((line, i) => (
          <Text key={i} color="yellow">
            {line}
          </Text>
        ))}
      </Box>
    </Box>
  );
}

function Dashboard({ state, totalSteps, width, charts }: { state: DashboardState; totalSteps?: number; width: number; charts: readonly ChartSpec[] }) {
  // several charts share the height one chart has
  const rows = Math.max(4, Math.floor(CHART_ROWS / Math.max(1, charts.length)) + (charts.length > 1 ? 2 : 0));
  return (
    <Box flexDirection="column">
      <FieldLine fields={fitFields(dashboardFields(state, totalSteps, charts), width)} />
      {charts.map((c) => (
        <Chart key={c.key} label={c.label} values={state.steps.map((r) => figure(r, c.key)).filter(Number.isFinite)} width={width} rows={rows} />
      ))}
    </Box>
  );
}

export interface DashboardHandle {
  record(r: MetricsRecord): void;
  /** Prints a line above the dashboard, where it stays. */
  log(line: string): void;
  /** Stops redrawing; the last frame stays on the screen. */
  stop(): Promise<void>;
}

export interface DashboardOptions extends LiveRegionOptions {
  /** The run's length in steps (from --steps, or --tokens over the tokens of a step): shows `step 38/400`, a percentage and an ETA. */
  totalSteps?: number;
  /** Step figures to chart (default: the loss). */
  charts?: readonly ChartSpec[];
}

export async function startDashboard(opts: DashboardOptions = {}): Promise<DashboardHandle> {
  const { totalSteps, charts = LOSS_CHART, ...regionOpts } = opts;
  const state: DashboardState = { steps: [], val: [] };
  const region = startLiveRegion((width) => renderToString(<Dashboard state={state} totalSteps={totalSteps} width={width} charts={charts} />, { columns: width }), {
    intervalMs: REDRAW_MS,
    sharing: [process.stdout],
    ...regionOpts,
  });
  return {
    record(r) {
      if ('val_loss' in r) {
        state.val.push({ step: r.step, loss: r.val_loss });
        return;
      }
      if (!('loss' in r)) return;
      state.steps.push(r);
      state.latest = { step: r.step, at: performance.now() };
      state.first ??= state.latest;
    },
    log: region.log,
    async stop() {
      region.stop({ keep: true });
    },
  };
}
