// Opening the compute backend for model commands.
import { openBackend, type Backend } from '../../kernels/index.js';

/**
 * openBackend, with OpenMP threads that sleep rather than spin at barriers unless the user chose
 * otherwise. With spinning (libgomp's default) a shared or oversubscribed CPU stalls whenever one
 * thread is descheduled: measured on a loaded 2-core box, the fused LM head of `tiny` (256 tokens,
 * 151,851-row vocabulary) took 22.2 s spinning against 1.3 s passive. libgomp reads the variable
 * when the kernel library is loaded, so this must run before the first openBackend of the process.
 */
export function openModelBackend(device: string): Backend {
  process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
  return openBackend(device);
}
