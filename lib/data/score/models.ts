// The models loom ships (models/, trained by scripts/train-*.ts) and `--model NAME=PATH` specs.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../errors.js';
import { PACKAGE_ROOT } from '../../version.js';

export const MODELS_DIR = join(PACKAGE_ROOT, 'models');

/** The default classifiers: scores.quality and scores.offensive (flags.offensive at p ≥ 0.5). */
export const DEFAULT_CLASSIFIERS: Record<string, string> = {
  quality: join(MODELS_DIR, 'quality.cls.gz'),
  offensive: join(MODELS_DIR, 'offensive.cls.gz'),
};

/** The default n-gram model behind scores.perplexity (English characters). */
export const DEFAULT_LM = join(MODELS_DIR, 'perplexity-en.lm.gz');

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `quality=models/q.cls.gz` → ["quality", path]; the name becomes scores.<name>. */
export function parseModelSpec(spec: string): [string, string] {
  const eq = spec.indexOf('=');
  const name = spec.slice(0, eq);
  const path = spec.slice(eq + 1);
  if (eq <= 0 || !NAME.test(name) || path === '') throw new UsageError(`--model must be NAME=PATH (NAME of letters, digits and _), got ${JSON.stringify(spec)}`);
  return [name, path];
}

/** A file named on the command line must exist: a usage error before any input is read. `flag`: how it was given. */
export function assertExists(flag: string, path: string): void {
  if (!existsSync(path)) throw new UsageError(`${flag}: no such file`);
}
