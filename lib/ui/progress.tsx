import { useEffect, useState } from 'react';
import { Box, Text, render } from 'ink';
import type { ProgressDisplay, ProgressSnapshot } from '../cli/progress.js';
import { formatBytes, formatCount, formatDuration } from './format.js';
import { inkStream } from './terminal.js';

const REDRAW_MS = 200;

function StatusLine({ snapshot, start }: { snapshot: () => ProgressSnapshot; start: number }) {
  const [, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((t) => t + 1), REDRAW_MS);
    return () => clearInterval(timer);
  }, []);
  const snap = snapshot();
  const seconds = Math.max((performance.now() - start) / 1000, 1e-9);
  return (
    <Box gap={2}>
      <Text color="cyan">{snap.label}</Text>
      <Text>{formatCount(snap.records)} in</Text>
      <Text>{formatCount(snap.out)} out</Text>
      {snap.rejected > 0 ? <Text color="yellow">{formatCount(snap.rejected)} rejected</Text> : null}
      <Text dimColor>
        {formatCount(snap.records / seconds)} rec/s · {formatBytes(snap.bytes / seconds)}/s · {formatDuration(seconds)}
      </Text>
      {Object.entries(snap.extra ?? {}).map(([key, value]) => (
        <Text key={key} dimColor>
          {key} {formatCount(value)}
        </Text>
      ))}
    </Box>
  );
}

/** An ink status line on stderr, redrawn in place; cleared when stopped. */
export function startStatusLine(snapshot: () => ProgressSnapshot): ProgressDisplay {
  const instance = render(<StatusLine snapshot={snapshot} start={performance.now()} />, {
    stdout: inkStream(),
    patchConsole: false,
    exitOnCtrlC: false,
  });
  return {
    stop: async () => {
      instance.clear();
      instance.unmount();
      await instance.waitUntilExit();
    },
  };
}
