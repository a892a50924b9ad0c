// The sampling flags `generate` and `chat` share, declared once; unset ones fall back to the
// checkpoint's generation_config.json, then vLLM's defaults (flagSampling in lib/cli/generate.ts).
import { nonNegativeInteger, nonNegativeNumber, positiveNumber, validator } from './validate.js';

const RECOMMENDED = "(default: the checkpoint's generation_config.json";

export const SAMPLING_FLAGS = {
  temperature: { alias: 't', type: 'number', coerce: nonNegativeNumber('--temperature'), describe: `Softmax temperature; 0 is greedy (argmax) ${RECOMMENDED}, else 1)` },
  'top-k': { type: 'number', coerce: nonNegativeInteger('--top-k'), describe: `Sample from the k most likely tokens; 0: all ${RECOMMENDED}, else 0)` },
  'top-p': { type: 'number', coerce: validator<number>('--top-p', 'a number above 0 up to 1', (v) => v > 0 && v <= 1), describe: `Sample from the smallest set of most likely tokens whose probability reaches p; 1: all ${RECOMMENDED}, else 1)` },
  'repetition-penalty': { type: 'number', coerce: positiveNumber('--repetition-penalty'), describe: `Hugging Face's penalty on tokens of the prompt and the sample so far; 1: none ${RECOMMENDED}, else 1)` },
} as const;
