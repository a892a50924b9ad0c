// Worker-thread module for `--workers`: hashes batches of documents into signature rows.
import { serveTasks } from '../../util/worker-pool.js';
import { Signer, type SignatureConfig, type SignInput } from './signature.js';

let cached: { key: string; signer: Signer } | undefined;

export function handler(task: SignInput, config: SignatureConfig): Uint32Array {
  const key = JSON.stringify(config);
  if (cached?.key !== key) cached = { key, signer: new Signer(config) };
  return cached.signer.signRows(task);
}

serveTasks(handler);
