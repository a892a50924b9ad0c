// The sampling settings a checkpoint recommends in its generation_config.json (Qwen2-Instruct's:
// temperature 0.7, top_p 0.8, top_k 20, repetition_penalty 1.05). transformers' generate and vLLM
// both start from them, so `loom generate` does too, for every flag not given. As vLLM does, only
// the fields the file has count; `do_sample: false` (transformers' greedy) is temperature 0.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../errors.js';
import { GENERATION_FILE } from '../model/checkpoint.js';
import type { SamplingParams } from './types.js';

export type SamplingDefaults = Partial<Pick<SamplingParams, 'temperature' | 'topK' | 'topP' | 'repetitionPenalty'>>;

const FIELDS: [keyof SamplingDefaults, string, (v: number) => boolean][] = [
  ['temperature', 'temperature', (v) => v >= 0],
  ['topK', 'top_k', (v) => Number.isInteger(v) && v >= -1],
  ['topP', 'top_p', (v) => v > 0 && v <= 1],
  ['repetitionPenalty', 'repetition_penalty', (v) => v > 0],
];

export function generationDefaults(checkpointDir: string): SamplingDefaults {
  const path = join(checkpointDir, GENERATION_FILE);
  if (!existsSync(path)) return {};
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new DataError(`${path}: unreadable: ${(err as Error).message}`);
  }
  if (json.do_sample === false) return { temperature: 0 };
  const out: SamplingDefaults = {};
  for (const [key, field, ok] of FIELDS) {
    const value = json[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'number' || !ok(value)) throw new DataError(`${path}: ${field} ${JSON.stringify(value)} is out of range`);
    // vLLM writes "no top-k" as -1, loom (and transformers) as 0.
    out[key] = key === 'topK' ? Math.max(0, value) : value;
  }
  return out;
}
