// Small fixes to dependencies, applied at install (npm's `prepare`, before the build). Each edit
// names the exact text it replaces: a dependency whose text changed stops the install with the
// file's path, rather than going on unpatched. A patched file carries a marker line, so running
// this again changes nothing.
//
// linkedom 0.18.15 (extract's DOM): every node's constructor registers a new Map of event
// listeners in a WeakMap. Extraction never adds a listener. On WCXB's 300 pages that constructor
// had 16.6% of a CPU profile's samples and the garbage collector 22%; without the maps the pages
// took 37% less wall time, and pages per CPU-second rose at least 14% (docs/extract.md, Speed).
// Here the map is made by a node's first addEventListener; dispatching and removing already allow
// a node without one.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const MARKER = '// patched by loom (scripts/patch-deps.mjs): listener maps made on first use';

const LISTENERS_ON_FIRST_USE = [
  ['  constructor() {\n    wm.set(this, new Map);\n  }', '  constructor() {}'],
  [
    '  addEventListener(type, listener, options) {\n    const map = wm.get(this);',
    '  addEventListener(type, listener, options) {\n    if (!wm.has(this)) wm.set(this, new Map);\n    const map = wm.get(this);',
  ],
  ['    const map = wm.get(this);\n    if (map.has(type)) {', '    const map = wm.get(this);\n    if (map && map.has(type)) {'],
];

export const PATCHES = ['cjs', 'esm'].map((build) => ({ file: `node_modules/linkedom/${build}/interface/event-target.js`, edits: LISTENERS_ON_FIRST_USE }));

/** Applies `edits` ([from, to] pairs, each `from` found exactly once) to `path`; false when it was already patched. */
export function patchFile(path, edits) {
  let text = readFileSync(path, 'utf8');
  if (text.startsWith(MARKER)) return false;
  for (const [from, to] of edits) {
    const at = text.indexOf(from);
    if (at < 0 || text.indexOf(from, at + 1) >= 0) {
      throw new Error(`${path}: expected exactly one copy of ${JSON.stringify(from.split('\n')[0])}; the dependency changed, so scripts/patch-deps.mjs must be updated`);
    }
    text = text.slice(0, at) + to + text.slice(at + from.length);
  }
  writeFileSync(path, `${MARKER}\n${text}`);
  return true;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  for (const { file, edits } of PATCHES) {
    if (patchFile(root + file, edits)) process.stderr.write(`patch-deps: patched ${file}\n`);
  }
}
