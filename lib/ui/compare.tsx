// `loom compare --judge human`: one prompt at a time with two answers, labelled a and b in an order
// drawn per item (CompareSession.shown), so the judge cannot tell which model wrote which. Single
// keys judge; plain redraws only, as loom review, so it works over ssh and in tmux.
import { Box, Text, render, useApp, useInput, useStdout } from 'ink';
import { useState } from 'react';
import type { CompareSession } from '../eval/compare.js';
import { escapeControls } from '../errors.js';
import { fitFields, truncate, type Field } from './fit.js';
import { FieldLine } from './progress.js';
import { terminalColumns } from './terminal.js';
import { wrapText } from './wrap.js';

export const COMPARE_HELP = 'a answer a is better · b answer b · t tie · s skip · ↑↓/j k/space scroll · q quit';
const FALLBACK_ROWS = 24;

/** The prompt's turns, then each answer under its label, wrapped to `width`. */
export function compareLines(session: CompareSession, width: number): string[] {
  const item = session.current;
  if (!item) return [];
  const { first, second } = session.shown(item);
  const rule = (label: string) => `── ${label} ${'─'.repeat(Math.max(0, width - label.length - 4))}`;
  return [
    ...item.prompt.flatMap((m) => wrapText(escapeControls(`${m.role}: ${m.content}`), width)),
    rule('answer a'),
    ...wrapText(escapeControls(first), width),
    rule('answer b'),
    ...wrapText(escapeControls(second), width),
  ];
}

/** The judging screen; it records into `session` (each judgement to its log at once) and ends on q or Escape. */
export function CompareApp({ session }: { session: CompareSession }) {
  const { exit } = useApp();
  const { stdout } = useStdout();
  const [, redraw] = useState(0);
  const [scroll, setScroll] = useState(0);
  const width = Math.max(20, terminalColumns(stdout) - 1);
  const rows = stdout.rows || FALLBACK_ROWS;
  const fields: Field[] = [
    { text: `loom compare ${Math.min(session.index + 1, session.queue.length)}/${session.queue.length}`, priority: 0, color: 'cyan' },
    { text: `judged ${session.counts.judged}`, priority: 1, color: 'green' },
    { text: `skipped ${session.counts.skipped}`, priority: 2, dim: true },
    { text: `${session.log.judged.size} in ${session.log.path}`, priority: 3, dim: true },
  ];
  // Everything fits in rows - 1, so ink redraws in place instead of clearing the screen.
  const bodyRows = Math.max(3, rows - 1 - 3);
  const text = compareLines(session, width);
  const lastScroll = Math.max(0, text.length - bodyRows);
  const top = Math.min(scroll, lastScroll);

  useInput((input, key) => {
    const act = (change: () => void) => {
      change();
      setScroll(0);
      redraw((n) => n + 1);
    };
    if (input === 'a') act(() => session.choose('first'));
    else if (input === 'b') act(() => session.choose('second'));
    else if (input === 't') act(() => session.choose('tie'));
    else if (input === 's') act(() => session.skip());
    else if (input === 'q' || key.escape) exit();
    const scrollBy = (n: number) => setScroll((s) => Math.max(0, Math.min(lastScroll, Math.min(s, lastScroll) + n)));
    if (key.downArrow || input === 'j') scrollBy(1);
    else if (key.upArrow || input === 'k') scrollBy(-1);
    else if (key.pageDown || input === ' ') scrollBy(bodyRows);
    else if (key.pageUp) scrollBy(-bodyRows);
  });

  const position = text.length > bodyRows ? ` · lines ${top + 1}-${Math.min(text.length, top + bodyRows)} of ${text.length}` : '';
  return (
    <Box flexDirection="column">
      <FieldLine fields={fitFields(fields, width)} />
      <Text dimColor>{'─'.repeat(width)}</Text>
      {session.current ? (
        text.slice(top, top + bodyRows).map((row, i) => (
          <Text key={i} wrap="truncate-end" dimColor={row.startsWith('── ')}>
            {row === '' ? ' ' : row}
          </Text>
        ))
      ) : (
        <Text>{truncate(`All ${session.queue.length} prompts are judged or skipped. q quits.`, width)}</Text>
      )}
      <Text wrap="truncate-end" dimColor>
        {truncate(COMPARE_HELP + position, width)}
      </Text>
    </Box>
  );
}

/** Runs the judging screen on a terminal (stderr by default: stdout stays free for the report) until the judge quits. */
export async function runCompareView(session: CompareSession, terminal: NodeJS.WriteStream = process.stderr): Promise<void> {
  const app = render(<CompareApp session={session} />, { stdout: terminal, exitOnCtrlC: true, patchConsole: false });
  await app.waitUntilExit();
}
