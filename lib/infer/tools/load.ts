// The tools of a run: built-ins by name (`--tools python,calculator`) and users' modules
// (`--tool ./my-tool.ts`), whose default export is a Tool or an array of them. A module is loaded
// as `loom run` loads a script: TypeScript through tsx, `import … from 'loom'` resolved to this loom.
import { existsSync } from 'node:fs';
import { register } from 'node:module';
import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError } from '../../errors.js';
import { calculator } from './calculator.js';
import { pythonTool, type PythonToolOptions } from './python.js';
import type { Tool } from './types.js';

export const BUILTIN_TOOLS = ['python', 'calculator'] as const;

export interface ToolChoice {
  /** Built-ins by name. */
  names: readonly string[];
  /** Module files (.ts, .mts, .js, .mjs). */
  files: readonly string[];
  python?: PythonToolOptions;
}

/** The tools chosen, in order: built-ins, then each module's. Names must differ. */
export async function loadTools(choice: ToolChoice): Promise<Tool[]> {
  const tools = choice.names.map((name) => builtinTool(name, choice.python));
  for (const file of choice.files) tools.push(...(await loadToolModule(file)));
  const seen = new Set<string>();
  for (const tool of tools) {
    if (seen.has(tool.name)) throw new UsageError(`two tools are named ${JSON.stringify(tool.name)}: the model could not tell them apart`);
    seen.add(tool.name);
  }
  return tools;
}

function builtinTool(name: string, python?: PythonToolOptions): Tool {
  if (name === 'python') return pythonTool(python);
  if (name === 'calculator') return calculator;
  throw new UsageError(`--tools ${name}: no such tool (built-ins: ${BUILTIN_TOOLS.join(', ')}; a module of your own goes to --tool FILE)`);
}

/** The Tool or Tools a module exports by default. */
export async function loadToolModule(file: string): Promise<Tool[]> {
  const path = resolvePath(file);
  if (!existsSync(path)) throw new UsageError(`--tool ${file}: no such file`);
  const url = pathToFileURL(path).href;
  const fromSource = import.meta.url.endsWith('.ts');
  const { register: registerTsx } = await import('tsx/esm/api');
  registerTsx();
  register(new URL(fromSource ? '../../cli/resolve-loom.ts' : '../../cli/resolve-loom.js', import.meta.url), {
    data: { entry: new URL(fromSource ? '../../index.ts' : '../../index.js', import.meta.url).href, script: url },
  });
  const exported: unknown = ((await import(url)) as { default?: unknown }).default;
  const tools = Array.isArray(exported) ? exported : [exported];
  const bad = tools.findIndex((t) => !isTool(t));
  if (tools.length === 0 || bad >= 0)
    throw new UsageError(`--tool ${file}: the default export must be a Tool or an array of Tools ({ name, description, parameters, call })${tools.length > 1 ? `; item ${bad} is not` : ''}`);
  return tools as Tool[];
}

function isTool(value: unknown): value is Tool {
  if (value === null || typeof value !== 'object') return false;
  const t = value as Partial<Tool>;
  return typeof t.name === 'string' && /^\S+$/.test(t.name) && typeof t.description === 'string' && t.parameters !== null && typeof t.parameters === 'object' && typeof t.call === 'function';
}
