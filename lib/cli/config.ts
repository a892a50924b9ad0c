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
