// A checkpoint opened for inference: its weights in the compute dtype (bf16 on a GPU, fp32 on the
// CPU) and nothing else, on a trunk sized for `capacity` tokens a pass.
import { openBackend, type Backend, type DType } from '../../kernels/index.js';
import { DataError } from '../errors.js';
import { loadVocabulary, vocabularyHash, type Vocabulary } from '../tokenizer/vocabulary.js';
import { loadWeights, readCheckpoint, type LoadedCheckpoint, type LoomModelInfo } from './checkpoint.js';
import { parameterSpecs } from './params.js';
import { Trunk } from './trunk.js';
import { Weights } from './weights.js';

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

/** The vocabulary a checkpoint was trained with (config.json's loom.vocab), refused if it has changed since. */
export function checkpointVocabulary(info: LoomModelInfo): Vocabulary {
  let vocab: Vocabulary;
  try {
    vocab = loadVocabulary({ vocab: info.vocab });
  } catch (err) {
    throw new DataError(`the checkpoint's vocabulary '${info.vocab}' cannot be loaded to encode text: ${(err as Error).message}`);
  }
  const actual = vocabularyHash(vocab);
  if (info.vocab_hash && actual !== info.vocab_hash)
    throw new DataError(`vocabulary '${info.vocab}' has changed since the checkpoint was trained (hash ${actual.slice(0, 12)}…, expected ${info.vocab_hash.slice(0, 12)}…)`);
  return vocab;
}
