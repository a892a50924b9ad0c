// What a checkpoint holds for resuming, beside the model's own files: AdamW's moments
// (optimizer.safetensors, flat groups in the order of model.safetensors) and trainer_state.json
// (steps, the batch source's position, the seed and the run's resolved training settings).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../errors.js';
import { checkpointDir } from '../model/checkpoint.js';
import { readSafetensorsHeader, readTensor, writeSafetensors } from '../model/safetensors.js';
import type { Trainable } from './trainable.js';

export const OPTIMIZER_FILE = 'optimizer.safetensors';
export const STATE_FILE = 'trainer_state.json';
const FORMAT = 'loom.trainer/2';

export interface TrainerState<P = unknown, S = unknown> {
  format: typeof FORMAT;
  /** Optimizer steps taken (skipped non-finite steps included). */
  step: number;
  /** AdamW updates applied (bias correction counts these). */
  optimizer_step: number;
  /** Where the batch source resumes (its own JSON). */
  position: P;
  /** Tokens trained on so far, across ranks. */
  tokens: number;
  seed: number;
  /** The command's resolved training settings, so --resume continues the same run. */
  settings: S;
  /** The flags as given, for the record. */
  run: Record<string, unknown>;
  last_val_loss?: number;
  saved_at: string;
}

/** Writes the optimizer moments and trainer_state.json into a checkpoint directory being written. */
export function writeTrainingFiles(dir: string, params: Trainable, state: TrainerState): void {
  writeSafetensors(
    join(dir, OPTIMIZER_FILE),
    params.groups.flatMap((g) => {
      const name = g.decay ? 'decay' : 'no_decay';
      return [
        { name: `${name}.exp_avg`, shape: [g.numel], data: () => params.k.download(g.m) as Float32Array },
        { name: `${name}.exp_avg_sq`, shape: [g.numel], data: () => params.k.download(g.v) as Float32Array },
      ];
    }),
    { layout: 'flat groups in the order of model.safetensors' },
  );
  writeFileSync(join(dir, STATE_FILE), JSON.stringify(state, null, 2) + '\n');
}

/** trainer_state.json of a checkpoint (DIR.old after a crash mid-save), or undefined for a weights-only checkpoint. */
export function readTrainerState<P, S>(dir: string): TrainerState<P, S> | undefined {
  const path = join(checkpointDir(dir), STATE_FILE);
  if (!existsSync(path)) return undefined;
  let state: TrainerState<P, S>;
  try {
    state = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new DataError(`${path}: unreadable: ${(err as Error).message}`);
  }
  if (state.format !== FORMAT)
    throw new DataError(`${path}: format ${JSON.stringify(state.format)} from another loom version (this one resumes ${FORMAT}); start a new run from its weights with --init`);
  return state;
}

export function loadOptimizer(dir: string, params: Trainable): void {
  const path = join(dir, OPTIMIZER_FILE);
  if (!existsSync(path)) throw new DataError(`${dir}: no ${OPTIMIZER_FILE}; it cannot be resumed (use --init to start a new run from its weights)`);
  const file = readSafetensorsHeader(path);
  for (const g of params.groups) {
    const name = g.decay ? 'decay' : 'no_decay';
    for (const [key, t] of [['exp_avg', g.m], ['exp_avg_sq', g.v]] as const) {
      const data = readTensor(file, `${name}.${key}`);
      if (data.length !== g.numel) throw new DataError(`${path}: ${name}.${key} holds ${data.length} values, the model needs ${g.numel}`);
      params.k.upload(t, data);
    }
  }
}
