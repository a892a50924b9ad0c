// A GenerateEngine without a model, for testing what drives one: each sequence's tokens come from
// `continuation(prompt, seed)`, one token per step; up to maxBatch sequences step together, so
// sequences of different lengths finish out of order, as they do on the real engine.
import type { GenerateEngine, Generation, GenerationRequest } from '../../../lib/infer/types.js';

export interface FakeEngine extends GenerateEngine {
  /** Every request submitted, in order. */
  readonly requests: GenerationRequest[];
  /** Most sequences that were submitted and not finished at one time. */
  readonly mostPending: number;
  /** Order in which sequences finished (indexes into requests). */
  readonly finished: number[];
}

export function fakeEngine(o: { contextLength: number; maxBatch: number; continuation: (prompt: Int32Array, seed: number) => number[] }): FakeEngine {
  const requests: GenerationRequest[] = [];
  const finished: number[] = [];
  const waiting: (() => void)[] = [];
  let running = 0;
  let pending = 0;
  let mostPending = 0;
  let closed = false;
  const step = () => new Promise<void>((resolve) => setImmediate(resolve));
  const slot = async () => {
    if (running < o.maxBatch) running += 1;
    else await new Promise<void>((resolve) => waiting.push(resolve));
  };
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else running -= 1;
  };
  return {
    contextLength: o.contextLength,
    requests,
    finished,
    get mostPending() {
      return mostPending;
    },
    async submit(request) {
      if (closed) throw new Error('engine closed');
      const index = requests.push(request) - 1;
      mostPending = Math.max(mostPending, ++pending);
      await slot();
      try {
        const { params, prompt } = request;
        const script = o.continuation(prompt, params.seed);
        const out: Generation = { tokens: [], logprobs: [], finish: 'length', promptTokens: prompt.length };
        const room = Math.min(params.maxNew, o.contextLength - prompt.length);
        for (let i = 0; ; i++) {
          if (i >= room || i >= script.length) break;
          await step();
          const token = script[i]!;
          if (params.stopTokens.includes(token)) {
            out.finish = 'stop';
            break;
          }
          const logprob = -(token % 7) / 8;
          out.tokens.push(token);
          out.logprobs.push(logprob);
          if (request.onToken?.(token, logprob) === false) {
            out.finish = 'stop';
            break;
          }
        }
        finished.push(index);
        return out;
      } finally {
        pending -= 1;
        release();
      }
    },
    close() {
      closed = true;
    },
  };
}
