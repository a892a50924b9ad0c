// Module resolution hook for `loom run`: a user's script may `import … from 'loom'` from any
// directory, Deno-style, without installing loom next to it; and the script itself is always an
// ES module (top-level await works) even where no package.json says "type": "module".
interface ResolveContext {
  parentURL?: string;
}
interface ResolveResult {
  url: string;
  format?: string | null;
}
type NextResolve = (specifier: string, context: ResolveContext) => Promise<ResolveResult>;

let entry = '';
let script = '';

export function initialize(data: { entry: string; script: string }): void {
  entry = data.entry;
  script = data.script;
}

export async function resolve(specifier: string, context: ResolveContext, next: NextResolve): Promise<ResolveResult> {
  if (specifier === 'loom') return next(entry, context);
  const resolved = await next(specifier, context);
  return resolved.url === script ? { ...resolved, format: 'module' } : resolved;
}
