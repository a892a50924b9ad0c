// Stages composed in one process, run with loom from any directory:
//   loom run examples/pipeline.ts -- docs.jsonl [more.jsonl …] > sample.jsonl
// Keeps Chinese and English documents, removes near-duplicates and writes a seeded sample of 100,
// as the shell pipeline
//   loom langid docs.jsonl --langs zh,en | loom dedup | loom sample -n 100 --seed 1
// does, without serializing the records between stages.
import { dedup, langid, readDocs, sample, writeJsonl } from 'loom';

const inputs = process.argv.slice(2);
if (inputs.length === 0) {
  process.stderr.write('usage: loom run examples/pipeline.ts -- docs.jsonl [more.jsonl …]\n');
  process.exit(2);
}
const kept = langid(readDocs(inputs), { langs: ['zh', 'en'] });
const unique = dedup(kept);
await writeJsonl(sample(unique, { n: 100, seed: 1 }), process.stdout);
process.stderr.write(`langid dropped ${kept.counters.dropped}, dedup dropped ${unique.counters.dropped}\n`);
