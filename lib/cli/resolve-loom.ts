// Module resolution hook for `loom run`: lets a user's script `import … from 'loom'` from any
// directory, Deno-style, without installing loom next to it.
interface ResolveContext {
  parentURL?: string;
}
type NextResolve = (specifier: string, context: ResolveContext) => Promise<unknown>;

let entry = '';

export function initialize(data: { entry: string }): void {
  entry = data.entry;
}

export async function resolve(specifier: string, context: ResolveContext, next: NextResolve): Promise<unknown> {
  if (specifier === 'loom') return next(entry, context);
  return next(specifier, context);
}
