import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../../../lib/errors.js';
import { generationDefaults } from '../../../lib/infer/generation-defaults.js';
import { tempDir } from '../../helpers/cli.js';

test("a checkpoint's generation_config.json gives the sampling defaults it has", (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const write = (json: object) => writeFileSync(join(dir, 'generation_config.json'), JSON.stringify(json));
  assert.deepEqual(generationDefaults(dir), {}, 'no file: none');
  write({ bos_token_id: 151643, do_sample: true, eos_token_id: [151645, 151643], pad_token_id: 151643, repetition_penalty: 1.05, temperature: 0.7, top_p: 0.8, top_k: 20 });
  assert.deepEqual(generationDefaults(dir), { temperature: 0.7, topK: 20, topP: 0.8, repetitionPenalty: 1.05 }, "Qwen2-Instruct's");
  write({ eos_token_id: 2 });
  assert.deepEqual(generationDefaults(dir), {}, 'only the fields it has');
  write({ do_sample: false, temperature: 0.7 });
  assert.deepEqual(generationDefaults(dir), { temperature: 0 }, 'do_sample false is greedy');
  write({ top_k: -1 });
  assert.deepEqual(generationDefaults(dir), { topK: 0 }, "vLLM's -1 is no top-k");
  write({ top_p: 1.5 });
  assert.throws(() => generationDefaults(dir), (err: unknown) => err instanceof DataError && /generation_config\.json: top_p 1\.5 is out of range/.test(err.message));
});
