// Builds loom's default vocabulary (npm run build:vocab), reproducibly: same inputs, same bytes.
//
//   base:   cl100k_base from the tiktoken npm package, minus its 1,100 multi-digit tokens (Qwen)
//   corpus: @node-rs/jieba's dict.txt (MIT): 349k Chinese words with frequencies, each word's
//           pieces weighted by its frequency
//   merges: as many as bring the regular vocabulary to 151,643 tokens, Qwen's size, so special
//           tokens get Qwen's ids (<|endoftext|> = 151643, <|im_start|> = 151644, …)
//
// Writes vocab/loom-151k.tiktoken.gz and vocab/loom-151k.json (sources, checks, hash).
// `--check` rebuilds in memory and fails if the shipped vocabulary (its content) or record differ.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { QWEN_PATTERN } from '../lib/tokenizer/pattern.js';
import { formatRanks, qwenBaseTokens } from '../lib/tokenizer/ranks.js';
import { qwenSpecialTokens } from '../lib/tokenizer/special.js';
import { checkTraining, PieceCounts, trainMerges } from '../lib/tokenizer/train.js';
import { readWordList } from '../lib/tokenizer/corpus.js';
import { DEFAULT_VOCAB_FILE, vocabularyHash, type Vocabulary } from '../lib/tokenizer/vocabulary.js';
import { PACKAGE_ROOT } from '../lib/version.js';

const REGULAR_TOKENS = 151_643;

const started = performance.now();
const check = process.argv.includes('--check');
const require = createRequire(import.meta.url);
const dictPath = join(require.resolve('@node-rs/jieba/package.json'), '..', 'dict.txt');
const dictBytes = readFileSync(dictPath);
const jiebaVersion = (JSON.parse(readFileSync(require.resolve('@node-rs/jieba/package.json'), 'utf8')) as { version: string }).version;

const baseTokens = qwenBaseTokens();
const base: Vocabulary = { name: 'qwen-base', tokens: baseTokens, specials: qwenSpecialTokens(baseTokens.length), pattern: QWEN_PATTERN };
const pieces = new PieceCounts(QWEN_PATTERN);
const words = readWordList(dictBytes.toString('utf8'), dictPath, pieces);
const result = trainMerges(pieces, base, {
  merges: REGULAR_TOKENS - baseTokens.length,
  onProgress: (added, total) => process.stderr.write(`\rbuild:vocab: ${added}/${total} merges`),
});
process.stderr.write('\n');
const verification = checkTraining(result, pieces, base);
if (result.added !== REGULAR_TOKENS - baseTokens.length || verification.mismatches > 0 || verification.unsplittable > 0) {
  throw new Error(`build:vocab: training failed its checks: ${JSON.stringify({ added: result.added, ...verification })}`);
}

const ranks = formatRanks(result.tokens);
const gz = gzipSync(Buffer.from(ranks, 'latin1'), { level: 9 });
const vocab: Vocabulary = { name: 'default', tokens: result.tokens, specials: qwenSpecialTokens(result.tokens.length), pattern: QWEN_PATTERN };
const record = {
  file: 'loom-151k.tiktoken.gz',
  regular_tokens: result.tokens.length,
  base: { source: 'tiktoken@1.0.22 encoders/cl100k_base.json', tokens: 100_256, dropped_multi_digit: 100_256 - baseTokens.length },
  corpus: { source: `@node-rs/jieba@${jiebaVersion} dict.txt`, license: 'MIT', sha256: sha256(dictBytes), words, unique_pieces: result.pieces },
  merges: result.added,
  refused_cascades: result.refused,
  checks: verification,
  pattern: QWEN_PATTERN,
  special_tokens: { first: result.tokens.length, layout: '<|endoftext|>, <|im_start|>, <|im_end|>, <|extra_0|>…<|extra_204|>' },
  vocabulary_hash: vocabularyHash(vocab),
  ranks_sha256: sha256(Buffer.from(ranks, 'latin1')),
};
const recordPath = join(PACKAGE_ROOT, 'vocab', 'loom-151k.json');
const recordText = JSON.stringify(record, null, 2) + '\n';
if (check) {
  // Compares content, not gzip bytes (another zlib may compress the same ranks differently).
  const same = gunzipSync(readFileSync(DEFAULT_VOCAB_FILE)).toString('latin1') === ranks && readFileSync(recordPath, 'utf8') === recordText;
  process.stderr.write(`build:vocab --check: ${same ? 'shipped vocabulary matches the build' : 'MISMATCH with the shipped vocabulary'}\n`);
  process.exit(same ? 0 : 1);
}
writeFileSync(DEFAULT_VOCAB_FILE, gz);
writeFileSync(recordPath, recordText);
process.stderr.write(`build:vocab: wrote ${DEFAULT_VOCAB_FILE} (${gz.length} bytes, ${result.tokens.length} tokens) in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
