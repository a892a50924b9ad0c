import { readFileSync } from 'node:fs';
import { errorMessage, UsageError } from '../errors.js';

/** Flags that change how a run looks, not what it computes; kept out of manifests and fingerprints. */
const PRESENTATION = new Set(['quiet', 'progress', 'config', 'inputs', '_', '$0', 'help', 'version']);

/**
 * The resolved configuration of a run (after flags > LOOM_* env > --config file > defaults), as
 * written into manifests and checkpoints: long flag names only, no yargs aliases.
 */
export function resolvedConfig(argv: object): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(argv).sort(([a], [b]) => a.localeCompare(b))) {
    if (PRESENTATION.has(key) || key.length === 1 || /[A-Z]/.test(key) || value === undefined) continue;
    config[key] = value;
  }
  return config;
}

/**
 * Reads `--config FILE` (yargs' configParser; it passes the path resolved against the working
 * directory). A missing file and a file that is not JSON are different mistakes: say which.
 */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`--config ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not a JSON file' : errorMessage(err)}`);
  }
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--config ${path}: not valid JSON (${errorMessage(err)})`);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new UsageError(`--config ${path}: must hold one JSON object of flag values, like {"seed": 1}`);
  return config as Record<string, unknown>;
}
