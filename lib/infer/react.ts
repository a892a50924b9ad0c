// Tool use by ReAct prompting, in the layout of Qwen's published ReAct example: the user turn lists
// the tools and asks for Thought / Action / Action Input / Observation steps ending in a Final
// Answer. The model writes until it starts an "Observation:" line; the loop runs the tool, writes
// the observation itself and lets the model continue the same assistant turn, until it gives its
// Final Answer or the step cap is reached. Every generation re-encodes the assistant text so far
// after the prompt, as Qwen's example does, so any engine (or a scripted one in tests) can run it.
import { concat } from '../chat/turns.js';
import type { ChatMessage } from '../tokenizer/chatml.js';
import { CompletionText } from './completion-text.js';
import type { Tool } from './tools/types.js';
import type { GenerateEngine, SamplingParams } from './types.js';

/** The stop string of each generation: the model is about to invent a tool's result. */
export const OBSERVATION = 'Observation:';
export const FINAL_ANSWER = 'Final Answer:';

/** One tool call: what the model thought and asked for, and what it was told. */
export interface ReactStep {
  thought: string;
  action: string;
  /** The text after `Action Input:` as the model wrote it. */
  input: string;
  observation: string;
}

/**
 * answer: the model gave its answer (after "Final Answer:", or its whole last output when it
 * answered without the format); max_steps: it asked for a tool once more than allowed; length:
 * the context or max-new-tokens ran out; aborted: the signal fired.
 */
export type ReactFinish = 'answer' | 'max_steps' | 'length' | 'aborted';

export interface ReactResult {
  /** The final answer ('' unless finish is 'answer'). */
  answer: string;
  steps: ReactStep[];
  finish: ReactFinish;
  /** The whole assistant turn: the model's text with the observations written into it. */
  text: string;
  /** Tokens of the first prompt (the conversation before the assistant's text). */
  promptTokens: number;
  /** Of them, those the first generation took from the cache (reusePrefix). */
  cachedTokens?: number;
  /** New tokens over all generations. */
  completionTokens: number;
}

export interface ReactOptions {
  engine: GenerateEngine;
  tokenizer: { encodeOrdinary(text: string): Uint32Array; decodeBytes(ids: ArrayLike<number>): Uint8Array };
  tools: readonly Tool[];
  /** The conversation up to the open assistant turn, its last user turn made by reactPrompt. */
  prompt: ArrayLike<number>;
  /** Each generation's settings; generation i (from 0) gets seed + i. */
  sampling: SamplingParams;
  /** Most tool calls. */
  maxSteps: number;
  signal?: AbortSignal;
  /** Each generation continues the cache of the one before (GenerationRequest.reusePrefix); for chat. */
  reusePrefix?: boolean;
  /** Hears the assistant text as it grows (the model's tokens and the observations), in order. */
  onText?: (text: string) => void;
  onStep?: (step: ReactStep) => void;
}

/** One tool as Qwen's TOOL_DESC presents it. */
export function toolDescription(tool: Tool): string {
  return `${tool.name}: Call this tool to interact with the ${tool.name} API. What is the ${tool.name} API useful for? ${tool.description} Parameters: ${JSON.stringify(tool.parameters)} Format the arguments as a JSON object.`;
}

/** The user turn that asks for ReAct steps with these tools (Qwen's REACT_PROMPT). */
export function reactPrompt(question: string, tools: readonly Tool[]): string {
  return `Answer the following questions as best you can. You have access to the following tools:

${tools.map(toolDescription).join('\n\n')}

Use the following format:

Question: the input question you must answer
Thought: you should always think about what to do
Action: the action to take, should be one of [${tools.map((t) => t.name).join(',')}]
Action Input: the input to the action
Observation: the result of the action
... (this Thought/Action/Action Input/Observation can be repeated zero or more times)
Thought: I now know the final answer
Final Answer: the final answer to the original input question

Begin!

Question: ${question}`;
}

/** The conversation with its last user turn asking for ReAct steps (as Qwen does, earlier turns stay as they were). */
export function withReactPrompt(messages: readonly ChatMessage[], tools: readonly Tool[]): ChatMessage[] {
  const last = messages.findLastIndex((m) => m.role === 'user');
  return messages.map((m, i) => (i === last ? { ...m, content: reactPrompt(m.content, tools) } : m));
}

/** The tool call at the end of one generation, or undefined when there is none. */
export function parseAction(output: string): Omit<ReactStep, 'observation'> | undefined {
  const action = lastLine(output, 'Action:');
  if (!action) return undefined;
  const input = lastLine(output.slice(action.end), 'Action Input:');
  if (!input) return undefined;
  const thought = output.slice(0, action.start).replace(/^\s*Thought:/, '').trim();
  return { thought, action: action.text.trim(), input: output.slice(action.end + input.start + 'Action Input:'.length).trim() };
}

/** The answer after the last "Final Answer:", or undefined. */
export function finalAnswer(output: string): string | undefined {
  const at = output.lastIndexOf(FINAL_ANSWER);
  return at < 0 ? undefined : output.slice(at + FINAL_ANSWER.length).trim();
}

/**
 * The arguments object of a call. A model often writes code or an expression bare rather than as
 * JSON; for a tool with one string parameter, text that is not a JSON object is that parameter
 * (without Markdown code fences). Returns a reason the model can read when neither fits.
 */
export function parseToolArguments(input: string, tool: Tool): Record<string, unknown> | string {
  const text = input.replace(/^```[\w-]*\n([\s\S]*?)\n?```$/, '$1');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
    const missing = requiredNames(tool).filter((name) => !(name in parsed));
    return missing.length === 0 ? (parsed as Record<string, unknown>) : `Action Input lacks ${missing.map((m) => JSON.stringify(m)).join(', ')}`;
  }
  const only = soleStringParameter(tool);
  if (only !== undefined) return { [only]: typeof parsed === 'string' ? parsed : text };
  return `Action Input is not a JSON object: ${JSON.stringify(input.slice(0, 200))}`;
}

/** Runs the ReAct loop for one question (its prompt already encoded): see the module comment. */
export async function runReact(o: ReactOptions): Promise<ReactResult> {
  const steps: ReactStep[] = [];
  let text = '';
  let completionTokens = 0;
  let cachedTokens: number | undefined;
  const emit = (piece: string) => {
    if (piece !== '') o.onText?.(piece);
  };
  const result = (finish: ReactFinish, answer = ''): ReactResult => ({ answer, steps, finish, text, promptTokens: o.prompt.length, cachedTokens, completionTokens });
  for (let generation = 0; ; generation++) {
    const prompt = concat([Int32Array.from(o.prompt), Int32Array.from(o.tokenizer.encodeOrdinary(text))], Int32Array);
    if (prompt.length >= o.engine.contextLength) return result('length');
    const out = new CompletionText(o.tokenizer, [OBSERVATION]);
    const made = await o.engine.submit({
      prompt,
      params: { ...o.sampling, seed: (o.sampling.seed + generation) >>> 0 },
      reusePrefix: o.reusePrefix,
      onToken: (token) => {
        if (o.sampling.stopTokens.includes(token)) return;
        if (o.signal?.aborted) return false;
        const more = out.push(token);
        emit(out.take());
        return more;
      },
    });
    emit(out.finish());
    completionTokens += made.tokens.length;
    cachedTokens ??= made.cachedTokens;
    const output = out.toString();
    text += output;
    if (o.signal?.aborted) return result('aborted');
    const call = parseAction(output);
    if (!call) {
      if (out.stopped) {
        // "Observation:" with no call before it: the model is told the format and goes on.
        observe(`Error: write "Action: <one of ${o.tools.map((t) => t.name).join(', ')}>" and then "Action Input: <JSON object>" before "${OBSERVATION}"`);
        continue;
      }
      const answer = finalAnswer(output);
      if (answer !== undefined) return result('answer', answer);
      return made.finish === 'length' ? result('length') : result('answer', output.trim());
    }
    if (steps.length === o.maxSteps) return result('max_steps');
    const observation = await callTool(call.action, call.input, o);
    if (o.signal?.aborted) return result('aborted');
    const step = { ...call, observation };
    steps.push(step);
    o.onStep?.(step);
    observe(observation);
  }

  function observe(observation: string) {
    const written = `${text.endsWith('\n') ? '' : '\n'}${OBSERVATION} ${observation}\nThought:`;
    text += written;
    emit(written);
  }
}

/** The observation of a call: the tool's text, or what went wrong. */
async function callTool(name: string, input: string, o: ReactOptions): Promise<string> {
  const tool = o.tools.find((t) => t.name === name);
  if (!tool) return `Error: there is no tool ${JSON.stringify(name)}; the tools are ${o.tools.map((t) => t.name).join(', ')}`;
  const args = parseToolArguments(input, tool);
  if (typeof args === 'string') return `Error: ${args}`;
  try {
    return (await tool.call(args, { signal: o.signal ?? new AbortController().signal })).trimEnd();
  } catch (err) {
    return `Error: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** The last line starting with `label` (at the start of the text or after a line break). */
function lastLine(text: string, label: string): { start: number; end: number; text: string } | undefined {
  const after = text.lastIndexOf(`\n${label}`);
  const at = after >= 0 ? after + 1 : text.startsWith(label) ? 0 : -1;
  if (at < 0) return undefined;
  const lineEnd = text.indexOf('\n', at);
  const end = lineEnd < 0 ? text.length : lineEnd;
  return { start: at, end, text: text.slice(at + label.length, end) };
}

function requiredNames(tool: Tool): string[] {
  return Array.isArray(tool.parameters.required) ? tool.parameters.required.filter((r): r is string => typeof r === 'string') : [];
}

/** The name of a tool's only parameter when it is a string, else undefined. */
function soleStringParameter(tool: Tool): string | undefined {
  const properties = tool.parameters.properties;
  if (properties === null || typeof properties !== 'object') return undefined;
  const entries = Object.entries(properties);
  if (entries.length !== 1) return undefined;
  const [name, schema] = entries[0]!;
  return (schema as { type?: unknown }).type === 'string' ? name : undefined;
}
