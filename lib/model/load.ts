// A checkpoint opened for inference: its weights in the compute dtype (bf16 on a GPU, fp32 on the
// CPU) and nothing else, on a trunk sized for `capacity` tokens a pass.
import { openBackend, type Backend, type DType } from '../../kernels/index.js';
import { loadWeights, readCheckpoint, type LoadedCheckpoint } from './checkpoint.js';
import { parameterSpecs } from './params.js';
import { Trunk } from './trunk.js';
import { Weights } from './weights.js';

/** Where the model commands have always found it (it lives with the checkpoint's other files). */
export { checkpointVocabulary } from './checkpoint.js';

export interface LoadOptions {
  device: string;
  /** Most tokens (rows × sequence length) one forward holds. */
  capacity: number;
  dtype?: DType;
}

export interface LoadedModel {
  checkpoint: LoadedCheckpoint;
  k: Backend;
  weights: Weights;
  trunk: Trunk;
}

export function loadModel(checkpoint: LoadedCheckpoint | string, o: LoadOptions): LoadedModel {
  const ckpt = typeof checkpoint === 'string' ? readCheckpoint(checkpoint) : checkpoint;
  const k = openBackend(o.device);
  const weights = new Weights(k, parameterSpecs(ckpt.config, ckpt.head), o.dtype ?? defaultDtype(k));
  loadWeights(ckpt.dir, weights);
  return { checkpoint: ckpt, k, weights, trunk: new Trunk(k, ckpt.config, weights, o.capacity) };
}

/** bf16 on a GPU, fp32 on the CPU (whose kernels compute in fp32 only). */
export function defaultDtype(k: Backend): DType {
  return k.kind === 'cpu' ? 'f32' : 'bf16';
}
