// The tool flags of `generate` and `chat`: declared once, as the model commands' flags are
// (lib/cli/model-flags.ts), and turned into the tools of a ReAct run.
import { positiveInteger } from '../../cli/validate.js';
import type { Tool } from './types.js';

export const TOOL_FLAGS = {
  tools: { type: 'string', coerce: commaList, describe: 'Built-in tools the model may call by ReAct prompting: python, calculator (comma-separated; docs/tools.md)' },
  tool: { type: 'string', array: true, describe: 'A module (.ts, .js) whose default export is a Tool or an array of Tools (repeatable)' },
  'max-steps': { type: 'number', default: 8, coerce: positiveInteger('--max-steps'), describe: 'Most tool calls in one answer' },
} as const;

export interface ToolArgs {
  tools?: string[];
  tool?: string[];
  'max-steps': number;
}

/** What a ReAct run needs besides the engine. */
export interface ToolUse {
  tools: Tool[];
  /** Most tool calls in one answer. */
  maxSteps: number;
}

/** The tools the flags ask for, or undefined when they ask for none (no ReAct). */
export async function toolsFromFlags(argv: ToolArgs): Promise<ToolUse | undefined> {
  if (!argv.tools?.length && !argv.tool?.length) return undefined;
  // Loaded here, not at the top: parsing a command line loads no tool.
  const { loadTools } = await import('./load.js');
  return { tools: await loadTools({ names: argv.tools ?? [], files: argv.tool ?? [] }), maxSteps: argv['max-steps'] };
}

/** `python,calculator` (or the flag repeated) as names. */
function commaList(value: string | string[]): string[] {
  return [value].flat().flatMap((v) => String(v).split(',')).map((v) => v.trim()).filter((v) => v !== '');
}
