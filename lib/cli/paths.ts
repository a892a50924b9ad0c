// Output paths that would destroy an input. `loom cat in.jsonl --rejects in.jsonl` truncates its own
// input before reading it; an --out directory inside an input shard directory, or around an input,
// rewrites what is being read. Such command lines are refused before anything is opened.
import { existsSync, fstatSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { globSync } from 'tinyglobby';
import { UsageError } from '../errors.js';

/** A path that a command writes itself, with the flag that named it (`--rejects`). */
export interface OutputPath {
  flag: string;
  path: string | undefined;
}

/** The flags through which commands name files or directories they write. */
const OUTPUT_FLAGS = ['out', 'rejects', 'report', 'metrics'];

/** The output paths among a command's parsed flags (--out, --rejects, --report, --metrics). */
export function outputsOf(argv: object): OutputPath[] {
  const flags = argv as Record<string, unknown>;
  return OUTPUT_FLAGS.filter((name) => typeof flags[name] === 'string').map((name) => ({ flag: `--${name}`, path: flags[name] as string }));
}

/** Where a path leads once links are followed, and which file it is (to catch hard links and stdin). */
interface Place {
  shown: string;
  real?: string;
  file?: string;
}

/**
 * Throws a UsageError (exit 2) when an output is an input (after following links, or the same file
 * through a hard link or stdin redirection), lies inside an input directory, or holds an input
 * inside it; or when two outputs are the same path. `inputs` are the command-line specs: paths,
 * shard directories, globs, or `-` (or none) for stdin. Inputs that do not exist are left to the reader.
 */
export function refuseOutputsOverInputs(inputs: readonly string[], outputs: readonly OutputPath[]): void {
  const sources = (inputs.length === 0 ? ['-'] : inputs).flatMap(inputPlaces);
  const targets = outputs.filter((o): o is { flag: string; path: string } => o.path !== undefined).map((o) => ({ flag: o.flag, ...place(o.path) }));
  const advice = 'choose a path outside the inputs';
  for (const [i, target] of targets.entries()) {
    for (const source of sources) {
      if (sameFile(target, source)) {
        const which = target.shown === source.shown ? 'is also an input' : `is the input ${source.shown}`;
        throw new UsageError(`${target.flag} ${target.shown} ${which}: writing it would destroy it; ${advice}`);
      }
      if (!source.real || !target.real) continue;
      if (within(target.real, source.real)) throw new UsageError(`${target.flag} ${target.shown} lies inside the input directory ${source.shown}: ${advice}`);
      if (within(source.real, target.real)) throw new UsageError(`${target.flag} ${target.shown} holds the input ${source.shown}: ${advice}`);
    }
    const twin = targets.slice(0, i).find((other) => sameFile(other, target));
    if (twin) throw new UsageError(`${twin.flag} ${twin.shown} and ${target.flag} ${target.shown} are the same file; give each its own path`);
  }
}

function inputPlaces(spec: string): Place[] {
  if (spec === '-') {
    const stdin = statOrUndefined(() => fstatSync(0));
    return stdin?.isFile() ? [{ shown: '<stdin>', file: identity(stdin) }] : [];
  }
  if (existsSync(spec)) return [place(spec)];
  return globSync(spec, { onlyFiles: true, expandDirectories: false }).map(place);
}

function place(path: string): Place {
  const real = realPath(resolve(path));
  const stat = statOrUndefined(() => statSync(real));
  return { shown: path, real, file: stat && !stat.isDirectory() ? identity(stat) : undefined };
}

function sameFile(a: Place, b: Place): boolean {
  return (a.real !== undefined && a.real === b.real) || (a.file !== undefined && a.file === b.file);
}

/** `child` is `parent` or below it. */
function within(child: string, parent: string): boolean {
  const path = relative(parent, child);
  return path === '' || (!isAbsolute(path) && path.split(sep)[0] !== '..');
}

const identity = (stat: Stats) => `${stat.dev}:${stat.ino}`;

function statOrUndefined(stat: () => Stats): Stats | undefined {
  try {
    return stat();
  } catch {
    return undefined;
  }
}

/**
 * The real path of an absolute path that may not exist yet: links followed, including a dangling
 * link (opening it for writing creates its target), then the real path of the nearest existing
 * ancestor with the rest appended.
 */
function realPath(path: string, links = 0): string {
  try {
    return realpathSync.native(path);
  } catch {
    // fall through: the path, or a link it goes through, does not exist
  }
  if (links < 40) {
    try {
      return realPath(resolve(dirname(path), readlinkSync(path)), links + 1);
    } catch {
      // not a link
    }
  }
  const parent = dirname(path);
  return parent === path ? path : join(realPath(parent, links), basename(path));
}
