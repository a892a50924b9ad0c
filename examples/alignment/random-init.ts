// Writes a checkpoint of another checkpoint's shape and tokenizer with fresh weights: the init
// `loom pretrain` starts from (same draw for the same --seed), so fine-tuning it against the
// pretrained checkpoint shows what pretraining bought.
//
//   node --import tsx examples/alignment/random-init.ts ckpt/base ckpt/random [--seed 0]
import { parseArgs } from 'node:util';
import { readCheckpoint, saveCheckpoint } from '../../lib/model/checkpoint.js';
import { checkpointVocabulary } from '../../lib/model/load.js';
import { initialValues, parameterSpecs } from '../../lib/model/params.js';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { seed: { type: 'string', default: '0' } } });
if (positionals.length !== 2) throw new Error('usage: random-init.ts FROM_CKPT OUT_DIR [--seed N]');
const [fromDir, out] = positionals as [string, string];
const from = readCheckpoint(fromDir);
const specs = parameterSpecs(from.config, from.head);
const fresh = new Map(initialValues(from.config, specs, Number(values.seed)));
saveCheckpoint(out, { specs, values: (name) => fresh.get(name)! }, from.config, from.info, { head: from.head, vocab: checkpointVocabulary(from) });
process.stderr.write(`random-init: ${out}: ${from.config.layers} layers × ${from.config.hiddenSize}, ${from.config.vocabSize} ids, seed ${values.seed}\n`);
