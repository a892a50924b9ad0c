// Where a fine-tuning run (sft, rm) starts: the checkpoint it fine-tunes (--init) or, with
// --resume, its own last checkpoint with the trainer state; the model built on it with the head
// the command trains, its trainable state, and a trunk for the run's micro-batches.
import { openBackend, type Backend, type DType } from '../../kernels/index.js';
import { DataError, UsageError } from '../errors.js';
import { loadWeights, readCheckpoint, type LoadedCheckpoint } from '../model/checkpoint.js';
import type { ModelConfig } from '../model/config.js';
import { initialValues, parameterSpecs, type HeadKind } from '../model/params.js';
import { Trunk } from '../model/trunk.js';
import { Weights } from '../model/weights.js';
import { loadOptimizer, readTrainerState, type TrainerState } from './state.js';
import { Trainable } from './trainable.js';

export interface FineTuneSource {
  out: string;
  init?: string;
  resume: boolean;
  device: string;
  dtype?: DType;
  seed: number;
}

export interface FineTuneStart<S> {
  k: Backend;
  dtype: DType;
  from: LoadedCheckpoint;
  resumed?: TrainerState<number, S>;
  seed: number;
}

export function startFineTune<S>(command: string, o: FineTuneSource): FineTuneStart<S> {
  const k = openBackend(o.device);
  const dtype: DType = o.dtype ?? (k.kind === 'cpu' ? 'f32' : 'bf16');
  if (k.kind === 'cpu' && dtype !== 'f32') throw new UsageError('--dtype bf16 needs a GPU; the CPU backend computes in fp32');
  const dir = o.resume ? o.out : o.init;
  if (!dir) throw new UsageError(`give the checkpoint to ${command} from with --init CKPT`);
  const from = readCheckpoint(dir);
  const resumed = o.resume ? readTrainerState<number, S>(from.dir) : undefined;
  if (o.resume && !resumed) throw new DataError(`${o.out}: no trainer_state.json to resume from`);
  return { k, dtype, from, resumed, seed: resumed?.seed ?? o.seed };
}

/**
 * The model with `head` on the checkpoint's trunk; a head the checkpoint lacks (a reward model's
 * score on an SFT checkpoint) starts from the seeded init.
 */
export function fineTuneModel(start: FineTuneStart<unknown>, config: ModelConfig, head: HeadKind, capacity: number, freeze?: (name: string) => boolean) {
  const { k, dtype, from, resumed } = start;
  const weights = new Weights(k, parameterSpecs(config, head), dtype);
  const params = new Trainable(k, weights, freeze);
  const headSpecs = weights.specs.filter((s) => s.name === 'lm_head.weight' || s.name === 'score.weight');
  const fresh = head === from.head ? new Map<string, Float32Array>() : new Map(initialValues(config, headSpecs, start.seed));
  loadWeights(from.dir, params, fresh);
  if (resumed) loadOptimizer(from.dir, params);
  return { weights, params, trunk: new Trunk(k, config, weights, capacity) };
}
