// `loom chat` on a terminal: the conversation scrolls up as ordinary terminal output (ink's Static,
// so it stays in the scrollback and is never redrawn), while the bottom rows are live: the answer
// being streamed, the input line, the sampling settings and the system prompt. Model text is shown
// with control characters as escapes, so an answer cannot move the cursor or clear the screen.
import { Box, Static, Text, render, useApp, useInput, useStdout } from 'ink';
import { useRef, useState } from 'react';
import { errorMessage } from '../errors.js';
import { SETTINGS, type AnswerPart, type ChatAnswer, type ChatSession } from '../infer/chat-session.js';
import { fitFields, truncate, type Field } from './fit.js';
import { FieldLine } from './progress.js';
import { terminalColumns } from './terminal.js';
import { wrapText } from './wrap.js';

type Entry = { id: number; kind: 'title' | 'user' | 'trace' | 'assistant' | 'stats' | 'notice' | 'error'; text: string };
/** What the model has written of the answer in progress: with tools, the ReAct trace first. */
type Streaming = Record<AnswerPart, string>;

const FALLBACK_ROWS = 24;
/** Rows the live area keeps for itself below a streaming answer: input, settings, system prompt and a spare. */
const FOOTER_ROWS = 4;
const PROMPT = '› ';

/** `12 tokens · 35.2 tokens/s · first token 80 ms`, with how the answer ended when it was not the model's choice. */
export function answerStats(answer: ChatAnswer): string {
  const parts = [`${answer.tokens} ${answer.tokens === 1 ? 'token' : 'tokens'}`];
  if (answer.tokensPerSecond !== undefined) parts.push(`${answer.tokensPerSecond.toFixed(1)} tokens/s`);
  if (answer.firstTokenMs !== undefined) parts.push(`first token ${Math.round(answer.firstTokenMs)} ms`);
  if (answer.steps) parts.push(`${answer.steps.length} tool ${answer.steps.length === 1 ? 'call' : 'calls'}`);
  if (answer.finish === 'cancelled') parts.push('stopped');
  if (answer.finish === 'max_steps') parts.push('too many tool calls');
  if (answer.finish === 'length') parts.push('cut at max_new or the context');
  if (answer.leftOut > 0) parts.push(`${answer.leftOut} earlier messages left out of the context`);
  if (!answer.kept) parts.push('no answer: the question is not kept');
  return parts.join(' · ');
}

/** The sampling settings as /set names them, then the length of the conversation; the least needed go first on a narrow terminal. */
function settingFields(session: ChatSession): Field[] {
  const priority: Record<string, number> = { seed: 1, repetition_penalty: 1 };
  return [
    ...SETTINGS.map((s) => ({ text: `${s.name} ${session.settings[s.key]}`, priority: priority[s.name] ?? 0, dim: true })),
    { text: `${session.messages.length} messages`, priority: 2, dim: true },
  ];
}

/** Text as rows for the screen; an empty row holds a space so ink keeps it. */
function rows(text: string, width: number): string {
  return wrapText(text, width)
    .map((row) => row || ' ')
    .join('\n');
}

export function ChatApp({ session, title }: { session: ChatSession; title: string }) {
  const { exit } = useApp();
  const { stdout } = useStdout();
  const width = Math.max(20, terminalColumns(stdout) - 1);
  const height = stdout.rows || FALLBACK_ROWS;
  const nextId = useRef(1);
  const [entries, setEntries] = useState<Entry[]>([{ id: 0, kind: 'title', text: `${title} · /help lists the commands` }]);
  // The line being typed lives in a ref, so keys that arrive before the next render (a paste, then Enter) all see it.
  const line = useRef('');
  const [input, setInput] = useState('');
  const edit = (change: (text: string) => string) => setInput((line.current = change(line.current)));
  /** Lines sent so far, for ↑ and ↓; `recalled` is the one shown (sent.length: the line being typed). */
  const sent = useRef<string[]>([]);
  const recalled = useRef(0);
  const recall = (step: number) => {
    const to = Math.max(0, Math.min(sent.current.length, recalled.current + step));
    if (to === recalled.current) return;
    recalled.current = to;
    edit(() => sent.current[to] ?? '');
  };
  /** The answer being written; undefined while the model is not answering. */
  const [streaming, setStreaming] = useState<Streaming | undefined>(undefined);
  const add = (...items: Omit<Entry, 'id'>[]) => setEntries((list) => [...list, ...items.map((item) => ({ ...item, id: nextId.current++ }))]);

  const submit = async (line: string) => {
    const command = line.startsWith('/') && !line.startsWith('//');
    add(command ? { kind: 'notice', text: line } : { kind: 'user', text: line.replace(/^\//, '') });
    if (!command) setStreaming({ trace: '', answer: '' });
    let trace = '';
    try {
      const outcome = await session.input(line, (piece, part) => {
        if (part === 'trace') trace += piece;
        setStreaming((now) => ({ trace: '', answer: '', ...now, [part]: (now?.[part] ?? '') + piece }));
      });
      if (outcome.kind === 'answer') {
        const { answer } = outcome;
        if (trace.trim() !== '') add({ kind: 'trace', text: trace.trim() });
        add({ kind: 'assistant', text: answer.text }, { kind: 'stats', text: answerStats(answer) });
      }
      else if (outcome.kind === 'quit') exit();
      else {
        add({ kind: outcome.kind, text: outcome.text });
        // A loaded conversation is shown, so the screen holds what the model will see.
        if (outcome.kind === 'notice' && /^\/load\s/.test(line)) add(...session.messages.map((m) => ({ kind: m.role === 'user' ? ('user' as const) : ('assistant' as const), text: m.content })));
      }
    } catch (err) {
      add({ kind: 'error', text: errorMessage(err) });
    } finally {
      setStreaming(undefined);
    }
  };

  useInput((chars, key) => {
    if (key.ctrl && chars === 'c') {
      // The first Ctrl-C stops the answer; at the prompt, or a second time, it leaves.
      if (!session.cancel()) exit();
      return;
    }
    if (key.ctrl && chars === 'd' && line.current === '' && !session.busy) return exit();
    // One turn at a time: what is typed meanwhile waits for Enter after the answer.
    const enter = () => {
      const typed = line.current;
      if (session.busy || typed.trim() === '') return;
      edit(() => '');
      recalled.current = sent.current.push(typed);
      void submit(typed);
    };
    if (key.return) enter();
    else if (key.backspace || key.delete) edit((text) => [...text].slice(0, -1).join(''));
    else if (key.ctrl && chars === 'u') edit(() => '');
    else if (key.upArrow || key.downArrow) recall(key.upArrow ? -1 : 1);
    else if (chars && !key.ctrl && !key.meta) {
      // A chunk that ends in a line break is text and Enter (a pasted line, or keys typed before the
      // terminal was in raw mode); line breaks inside it become spaces.
      edit((text) => text + chars.replace(/[\r\n]+$/, '').replace(/[\r\n]+/g, ' '));
      if (/[\r\n]$/.test(chars)) enter();
    }
  });

  // The rows of the answer in progress that fit above the footer: its end, trace rows dimmed.
  const room = Math.max(1, height - FOOTER_ROWS);
  const answerRows = streaming && streaming.answer !== '' ? wrapText(streaming.answer, width) : [];
  const traceRows = streaming && streaming.trace !== '' ? wrapText(streaming.trace, width).slice(-Math.max(0, room - answerRows.length)) : [];
  const shown = answerRows.slice(-room);
  return (
    <Box flexDirection="column">
      <Static items={entries}>{(entry) => <EntryView key={entry.id} entry={entry} width={width} />}</Static>
      {traceRows.length > 0 && <Text dimColor>{traceRows.map((row) => row || ' ').join('\n')}</Text>}
      {streaming !== undefined && <Text>{shown.map((row) => row || ' ').join('\n')}</Text>}
      <Text wrap="truncate-end">
        <Text color="cyan">{PROMPT}</Text>
        {truncate(input, width - PROMPT.length - 1)}
        {streaming === undefined ? <Text inverse> </Text> : <Text dimColor> (answering · Ctrl-C stops)</Text>}
      </Text>
      <FieldLine fields={fitFields(settingFields(session), width)} />
      <Text dimColor wrap="truncate-end">
        {truncate(session.system === '' ? 'no system prompt' : `system: ${session.system.replace(/\s+/g, ' ')}`, width)}
      </Text>
    </Box>
  );
}

function EntryView({ entry, width }: { entry: Entry; width: number }) {
  switch (entry.kind) {
    case 'title':
      return <Text color="cyan">{truncate(entry.text, width)}</Text>;
    case 'user':
      return (
        <Text>
          <Text color="cyan">{PROMPT}</Text>
          {rows(entry.text, width - PROMPT.length)}
        </Text>
      );
    case 'assistant':
      return <Text>{rows(entry.text, width)}</Text>;
    case 'error':
      return <Text color="red">{rows(entry.text, width)}</Text>;
    default:
      return <Text dimColor>{rows(entry.text, width)}</Text>;
  }
}

/** Runs the chat screen on the terminal until the user leaves. */
export async function runChatApp(session: ChatSession, title: string): Promise<void> {
  const app = render(<ChatApp session={session} title={title} />, { exitOnCtrlC: false, patchConsole: false });
  await app.waitUntilExit();
}
