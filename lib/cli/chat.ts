// `loom chat` glue: opens the checkpoint, its tokenizer and an engine of one sequence, and runs a
// chat session either on the terminal (ink, when stdin and stdout both are one) or over lines: each
// input line a user turn (or a /command), each answer streamed to stdout and ended by a line break.
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { DataError } from '../errors.js';
import { ChatSession, type ChatOutcome, type ChatSettings } from '../infer/chat-session.js';
import { toolsFromFlags, type ToolArgs } from '../infer/tools/flags.js';
import { readCheckpoint } from '../model/checkpoint.js';
import { checkpointVocabulary } from '../model/load.js';
import { Tokenizer } from '../tokenizer/tokenizer.js';
import { formatCount } from '../ui/format.js';
import { flagSampling, openEngine, resolveStopTokens, type SamplingFlags } from './generate.js';
import type { GlobalArgs } from './options.js';

/** The flags of `loom chat` (declared in commands/chat.ts). */
export interface ChatArgs extends GlobalArgs, SamplingFlags, ToolArgs {
  checkpoint: string;
  device: string;
  system: string;
  'max-new': number;
  context?: number;
}

export async function runChat(argv: ChatArgs): Promise<void> {
  const tools = (await toolsFromFlags(argv))?.tools ?? [];
  const ckpt = readCheckpoint(argv.checkpoint);
  if (ckpt.head !== 'lm') throw new DataError(`${argv.checkpoint}: not a language model (its head is ${ckpt.head}); chat needs a Qwen2ForCausalLM checkpoint`);
  const contextLength = argv.context ?? ckpt.config.seqLen;
  if (contextLength > ckpt.config.seqLen && !argv.quiet)
    process.stderr.write(`loom chat: warning: --context ${contextLength} is beyond the ${ckpt.config.seqLen} positions the model was trained on (max_position_embeddings)\n`);
  const tokenizer = new Tokenizer(checkpointVocabulary(ckpt), { nfc: ckpt.info.nfc });
  try {
    const settings: ChatSettings = { maxNew: argv['max-new'], ...flagSampling(argv, ckpt.dir), seed: argv.seed };
    const engine = openEngine(ckpt, { device: argv.device, maxBatch: 1, contextLength });
    const session = new ChatSession({ engine, tokenizer, stopTokens: resolveStopTokens(undefined, tokenizer, ckpt), system: argv.system, settings, tools, maxSteps: argv['max-steps'] });
    try {
      if (process.stdin.isTTY && process.stdout.isTTY) {
        const { runChatApp } = await import('../ui/chat.js');
        const toolList = tools.length > 0 ? ` · tools ${tools.map((t) => t.name).join(', ')}` : '';
        await runChatApp(session, `loom chat ${argv.checkpoint} · ${engine.contextLength} tokens of context${toolList}`);
      } else {
        // Ctrl-C (from the terminal the pipe runs in) stops the answer being written; at no answer, or twice, it ends the run.
        const onInterrupt = () => session.cancel() || process.exit(130);
        process.on('SIGINT', onInterrupt);
        try {
          const say = (line: string) => void process.stderr.write(`loom chat: ${line}\n`);
          const trace = argv.quiet ? undefined : (piece: string) => void process.stderr.write(piece);
          const failed = await chatLines(session, process.stdin, { out: process.stdout, notice: argv.quiet ? () => {} : say, error: say, trace });
          if (failed > 0) process.exitCode = 1;
        } finally {
          process.off('SIGINT', onInterrupt);
        }
      }
    } finally {
      await session.stop();
      engine.close();
    }
  } finally {
    tokenizer.free();
  }
}

export interface ChatLinesIo {
  out: Writable;
  notice: (line: string) => void;
  error: (line: string) => void;
  /** Hears the ReAct trace (Thought / Action / Observation) of answers with tools as it is written. */
  trace?: (piece: string) => void;
}

/** The tools of --tools and --tool (loaded only when asked for: a tool module goes through tsx). */
/**
 * Line mode: each non-empty line is a user turn or a /command; answers go to `out` as they are
 * written, each followed by a line break; notices and a closing summary to `notice`, errors (with
 * the line number) to `error`. Returns how many lines failed.
 */
export async function chatLines(session: ChatSession, input: Readable, io: ChatLinesIo): Promise<number> {
  const { out, notice: log } = io;
  let lineNo = 0;
  let failed = 0;
  const totals = { answers: 0, tokens: 0, firstTokenMs: 0 };
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    lineNo += 1;
    if (line.trim() === '') continue;
    let streamed = false;
    let traced = '';
    const outcome: ChatOutcome = await session.input(line, (piece, part) => {
      if (part === 'trace') return void io.trace?.((traced = piece));
      streamed = true;
      out.write(piece);
    });
    if (traced !== '' && !traced.endsWith('\n')) io.trace?.('\n');
    if (outcome.kind === 'quit') break;
    if (outcome.kind === 'notice') log(outcome.text);
    else if (outcome.kind === 'error') {
      failed += 1;
      io.error(`line ${lineNo}: ${outcome.text}`);
    } else {
      const { answer } = outcome;
      // With tools the answer is the loop's Final Answer, known at its end.
      out.write(`${streamed ? '' : answer.text}\n`);
      totals.answers += 1;
      totals.tokens += answer.tokens;
      totals.firstTokenMs += answer.firstTokenMs ?? 0;
      if (answer.finish === 'cancelled') log(`line ${lineNo}: answer stopped`);
      if (answer.leftOut > 0) log(`line ${lineNo}: ${answer.leftOut} earlier messages left out of the context`);
    }
  }
  if (totals.answers > 0)
    log(`${formatCount(totals.answers)} ${totals.answers === 1 ? 'answer' : 'answers'} · ${formatCount(totals.tokens)} new tokens · first token after ${Math.round(totals.firstTokenMs / totals.answers)} ms on average`);
  return failed;
}
