// The training dashboard (TTY only): latest step figures, a loss chart, validation loss, and the
// run's log lines. Metrics JSONL still goes to stdout or --metrics; this only draws on stderr.
import { useEffect, useState } from 'react';
import { Box, Text, render } from 'ink';
import type { MetricsRecord, StepRecord } from '../train/pretrain.js';
import { formatCount } from './format.js';
import { FALLBACK_COLUMNS, inkStream } from './terminal.js';

const REDRAW_MS = 250;
const CHART_ROWS = 8;
const LOG_LINES = 4;
const BLOCKS = ' ▁▂▃▄▅▆▇█';

interface DashboardState {
  steps: StepRecord[];
  val: { step: number; loss: number }[];
  logs: string[];
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

function Dashboard({ state }: { state: () => DashboardState }) {
  const [, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((t) => t + 1), REDRAW_MS);
    return () => clearInterval(timer);
  }, []);
  const s = state();
  const last = s.steps[s.steps.length - 1];
  const val = s.val[s.val.length - 1];
  const width = Math.max(20, Math.min(100, (process.stderr.columns || FALLBACK_COLUMNS) - 12));
  const chart = lossChart(s.steps.map((r) => r.loss), width);
  const losses = s.steps.map((r) => r.loss).filter(Number.isFinite);
  return (
    <Box flexDirection="column">
      {s.logs.map((line, i) => (
        <Text key={i} dimColor>
          {line}
        </Text>
      ))}
      {last ? (
        <Box gap={2}>
          <Text color="cyan">step {last.step}</Text>
          <Text>loss {last.loss.toFixed(4)}</Text>
          {val ? <Text color="green">val {val.loss.toFixed(4)}</Text> : null}
          <Text dimColor>lr {last.lr.toExponential(2)}</Text>
          <Text dimColor>|g| {last.grad_norm.toFixed(3)}</Text>
          <Text dimColor>{formatCount(last.tokens_per_s)} tok/s</Text>
          {last.mfu !== null ? <Text dimColor>MFU {(last.mfu * 100).toFixed(1)}%</Text> : null}
          <Text dimColor>{formatCount(last.tokens)} tokens</Text>
        </Box>
      ) : (
        <Text dimColor>starting…</Text>
      )}
      {chart.length > 0 ? (
        <Box>
          <Box flexDirection="column" marginRight={1}>
            <Text dimColor>{Math.max(...losses).toFixed(2).padStart(7)}</Text>
            {Array.from({ length: CHART_ROWS - 2 }, (_, i) => (
              <Text key={i}> </Text>
            ))}
            <Text dimColor>{Math.min(...losses).toFixed(2).padStart(7)}</Text>
          </Box>
          <Box flexDirection="column">
            {chart.map((line, i) => (
              <Text key={i} color="yellow">
                {line}
              </Text>
            ))}
          </Box>
        </Box>
      ) : null}
    </Box>
  );
}

export interface DashboardHandle {
  record(r: MetricsRecord): void;
  log(line: string): void;
  stop(): Promise<void>;
}

export async function startDashboard(): Promise<DashboardHandle> {
  const state: DashboardState = { steps: [], val: [], logs: [] };
  const instance = render(<Dashboard state={() => state} />, { stdout: inkStream(), patchConsole: false, exitOnCtrlC: false });
  return {
    record(r) {
      if ('val_loss' in r) state.val.push({ step: r.step, loss: r.val_loss });
      else state.steps.push(r);
    },
    log(line) {
      state.logs.push(line);
      if (state.logs.length > LOG_LINES) state.logs.shift();
    },
    async stop() {
      instance.rerender(<Dashboard state={() => state} />);
      instance.unmount();
      await instance.waitUntilExit();
    },
  };
}
