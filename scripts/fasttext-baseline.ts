// fastText (Debian's `fasttext` binary, when installed) trained and evaluated on the same split as
// a loom classifier, for the comparisons in docs/score.md. Never a dependency: absent, it reports null.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binaryMetrics, type TrainExample } from '../lib/data/score/classifier.js';
import type { FeatureConfig } from '../lib/data/score/features.js';

/** The tokens loom's features see, space-separated: fastText splits on whitespace only. */
export function fastTextTokens(text: string): string {
  return (text.toLowerCase().match(/[\p{L}\p{N}\p{M}]+|\S/gu) ?? []).map((t) => (/[\u3400-\u9fff]/u.test(t) ? [...t].join(' ') : t)).join(' ');
}

export function hasFastText(): boolean {
  try {
    execFileSync('fasttext', [], { stdio: 'ignore' });
    return true;
  } catch (error) {
    return (error as { status?: number }).status !== undefined && (error as { code?: string }).code !== 'ENOENT';
  }
}

export function fastTextBaseline(train: readonly TrainExample[], tests: Record<string, readonly TrainExample[]>, settings: { features: FeatureConfig; epochs: number; lr: number }, positive: string) {
  if (!hasFastText()) return null;
  const dir = mkdtempSync(join(tmpdir(), 'loom-fasttext-'));
  try {
    const line = (e: TrainExample) => `__label__${e.label} ${fastTextTokens(e.text)}`;
    writeFileSync(join(dir, 'train.txt'), train.map(line).join('\n') + '\n');
    const f = settings.features;
    const started = performance.now();
    execFileSync('fasttext', ['supervised', '-input', join(dir, 'train.txt'), '-output', join(dir, 'model'), '-epoch', String(settings.epochs), '-lr', String(settings.lr), '-wordNgrams', String(f.wordNgrams), '-minn', String(f.minn), '-maxn', String(f.maxn), '-bucket', String(f.buckets), '-thread', '1', '-verbose', '0'], { stdio: 'ignore' });
    const trainSeconds = (performance.now() - started) / 1000;
    const results: Record<string, unknown> = { train_s: Math.round(trainSeconds * 10) / 10 };
    for (const [name, examples] of Object.entries(tests)) {
      writeFileSync(join(dir, `${name}.txt`), examples.map((e) => fastTextTokens(e.text)).join('\n') + '\n');
      const out = execFileSync('fasttext', ['predict', join(dir, 'model.bin'), join(dir, `${name}.txt`)], { maxBuffer: 1 << 28 }).toString().trim().split('\n');
      const m = binaryMetrics(out.map((l) => l === `__label__${positive}`), examples.map((e) => e.label === positive));
      results[name] = Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Math.round(v * 1e4) / 1e4]));
    }
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
