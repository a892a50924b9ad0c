// `loom review`: one document at a time with its scores and flags; single keys label it. Plain
// keys and redraws only (no mouse, no colours that matter), so it works over ssh and in tmux.
import { Box, Text, render, useApp, useInput, useStdout } from 'ink';
import { useEffect, useState } from 'react';
import { escapeControls } from '../errors.js';
import type { Doc } from '../io/types.js';
import type { ReviewLabel, ReviewSession } from '../data/review.js';
import { fitFields, truncate, type Field } from './fit.js';
import { terminalColumns } from './terminal.js';
import { FieldLine } from './progress.js';
import { wrapText } from './wrap.js';

const LABEL_KEYS: Record<string, ReviewLabel> = { g: 'good', b: 'bad', o: 'offensive' };
const FALLBACK_ROWS = 24;
const MAX_FLAG_ROWS = 3;
export const REVIEW_HELP = 'g good · b bad · o offensive · s skip · u undo · ↑↓/j k/space scroll · q quit';

/** A score for a narrow header: 0.8123 → 0.812, 123.456 → 123, 12345.6 → 12346. */
function formatScore(value: unknown): string {
  if (typeof value !== 'number') return escapeControls(JSON.stringify(value) ?? String(value));
  if (Number.isInteger(value) || Math.abs(value) >= 1000) return String(Math.round(value));
  return String(Number(value.toPrecision(3)));
}

/** The lines above the text: where the session is, what the document is, its scores and flags. */
export function reviewHeader(session: ReviewSession, doc: Doc | undefined, width: number): { fields: Field[]; lines: string[] } {
  const c = session.counts;
  const fields: Field[] = [
    { text: `loom review ${Math.min(session.index + 1, session.queue.length)}/${session.queue.length}`, priority: 0, color: 'cyan' },
    { text: `good ${c.good}`, priority: 1, color: 'green' },
    { text: `bad ${c.bad}`, priority: 1, color: 'yellow' },
    { text: `offensive ${c.offensive}`, priority: 1, color: 'yellow' },
    { text: `skipped ${c.skip}`, priority: 2, dim: true },
    { text: `${session.store.size} in ${session.store.path}`, priority: 3, dim: true },
  ];
  if (!doc) return { fields: fitFields(fields, width), lines: [] };
  const about = [
    doc.id !== undefined ? `id ${String(doc.id)}` : 'no id',
    ...(typeof doc.source === 'string' ? [`source ${doc.source}`] : []),
    ...(typeof doc.lang === 'string' ? [`lang ${doc.lang}${typeof doc.lang_score === 'number' ? ` ${formatScore(doc.lang_score)}` : ''}`] : []),
    `${[...doc.text!].length} chars`,
  ];
  const scores = typeof doc.scores === 'object' && doc.scores !== null ? Object.entries(doc.scores) : [];
  const flags = typeof doc.flags === 'object' && doc.flags !== null ? Object.entries(doc.flags) : [];
  const lines = [about.join(' · '), scores.length > 0 ? `scores ${scores.map(([k, v]) => `${k} ${formatScore(v)}`).join(' · ')}` : 'no scores'];
  const shown = flags.length > MAX_FLAG_ROWS ? MAX_FLAG_ROWS - 1 : flags.length;
  lines.push(...flags.slice(0, shown).map(([name, why]) => `flag ${name}: ${typeof why === 'string' ? why : JSON.stringify(why)}`));
  if (shown < flags.length) lines.push(`… ${flags.length - shown} more flags: ${flags.slice(shown).map(([name]) => name).join(', ')}`);
  return { fields: fitFields(fields, width), lines: lines.map((line) => truncate(escapeControls(line), width)) };
}

function useTerminalSize(): { columns: number; rows: number } {
  const { stdout } = useStdout();
  const read = () => ({ columns: terminalColumns(stdout), rows: stdout.rows || FALLBACK_ROWS });
  const [size, setSize] = useState(read);
  useEffect(() => {
    const onResize = () => setSize(read());
    stdout.on('resize', onResize);
    return () => void stdout.off('resize', onResize);
  }, [stdout]);
  return size;
}

/** What the screen shows of the current document at this terminal size. */
function reviewLayout(session: ReviewSession, columns: number, rows: number) {
  const width = Math.max(20, columns - 1);
  const doc = session.current;
  const header = reviewHeader(session, doc, width);
  // Everything fits in rows - 1, so ink redraws in place instead of clearing the screen.
  const bodyRows = Math.max(3, rows - 1 - (1 + header.lines.length) - 3);
  const text = doc ? wrapText(doc.text!, width) : [];
  return { width, header, bodyRows, text, lastScroll: Math.max(0, text.length - bodyRows) };
}

/** The review screen; it mutates `session` (labels go to its store at once) and ends on q or Escape. */
export function ReviewApp({ session }: { session: ReviewSession }) {
  const { exit } = useApp();
  const { columns, rows } = useTerminalSize();
  const [, redraw] = useState(0);
  const [scroll, setScroll] = useState(0);
  const [notice, setNotice] = useState('');
  const { width, header, bodyRows, text, lastScroll } = reviewLayout(session, columns, rows);
  const top = Math.min(scroll, lastScroll);

  useInput((input, key) => {
    const act = (change: () => void) => {
      setNotice('');
      change();
      setScroll(0);
      redraw((n) => n + 1);
    };
    const label = LABEL_KEYS[input];
    if (label && !session.done) act(() => session.mark(label));
    else if (input === 's') act(() => session.skip());
    else if (input === 'u' || key.backspace || key.delete) act(() => (session.undo() ? undefined : setNotice('nothing to undo')));
    else if (input === 'q' || key.escape) exit();
    // By update functions, with the bounds of the document shown when the update applies: keys typed
    // faster than the redraws (a paste, a slow ssh link, a key right after a label) all count.
    const scrollBy = (pages: number, lines: number) =>
      setScroll((s) => {
        const view = reviewLayout(session, columns, rows);
        const from = Math.min(s, view.lastScroll);
        return Math.max(0, Math.min(view.lastScroll, from + pages * view.bodyRows + lines));
      });
    if (key.downArrow || input === 'j') scrollBy(0, 1);
    else if (key.upArrow || input === 'k') scrollBy(0, -1);
    else if (key.pageDown || input === ' ') scrollBy(1, 0);
    else if (key.pageUp) scrollBy(-1, 0);
  });

  const rule = '─'.repeat(width);
  const position = text.length > bodyRows ? ` · lines ${top + 1}-${Math.min(text.length, top + bodyRows)} of ${text.length}` : '';
  return (
    <Box flexDirection="column">
      <FieldLine fields={header.fields} />
      {header.lines.map((line, i) => (
        <Text key={i} wrap="truncate-end" color={line.startsWith('flag ') || line.startsWith('… ') ? 'red' : undefined}>
          {line}
        </Text>
      ))}
      <Text dimColor>{rule}</Text>
      {session.current ? (
        text.slice(top, top + bodyRows).map((row, i) => (
          <Text key={i} wrap="truncate-end">
            {row === '' ? ' ' : row}
          </Text>
        ))
      ) : (
        <Text>{truncate(`All ${session.queue.length} documents of this sample are reviewed. u undoes the last one; q quits.`, width)}</Text>
      )}
      <Text dimColor>{rule}</Text>
      <Text wrap="truncate-end">
        {notice ? <Text color="yellow">{notice} · </Text> : null}
        <Text dimColor>{truncate(REVIEW_HELP + position, width)}</Text>
      </Text>
    </Box>
  );
}

/** Runs the review screen on a terminal (stderr by default: stdout stays free) until the reviewer quits. */
export async function runReview(session: ReviewSession, terminal: NodeJS.WriteStream = process.stderr): Promise<void> {
  const app = render(<ReviewApp session={session} />, { stdout: terminal, exitOnCtrlC: true, patchConsole: false });
  await app.waitUntilExit();
}
