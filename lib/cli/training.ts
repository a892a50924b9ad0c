// What every training command's CLI shares: the flags of the training loop (declared once), --gpus
// launching and the rank environment, the metrics sink (stdout or --metrics, and --progress json),
// the ink dashboard on a TTY, and log lines that print above it.
import { appendFileSync, cpSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Options } from 'yargs';
import { parseDevice } from '../../kernels/index.js';
import { DataError, UsageError } from '../errors.js';
import { RejectSink } from '../io/rejects.js';
import type { OnError } from '../io/types.js';
import { launchLocal, worldFromEnv, type World } from '../train/distributed.js';
import type { MetricsRecord } from '../train/metrics.js';
import type { GlobalArgs } from './options.js';
import { outputsOf, refuseOutputsOverInputs } from './paths.js';
import { fraction, nonNegativeInteger, nonNegativeNumber, outputDirectory, outputFile, positiveInteger, positiveNumber, validator } from './validate.js';

/** Flags of the training loop, the same in pretrain, sft and rm. */
export const LOOP_FLAGS = {
  out: { alias: 'o', type: 'string', demandOption: true, coerce: outputDirectory('--out'), describe: 'Checkpoint directory (config.json, model.safetensors, optimizer state); rewritten atomically' },
  device: { type: 'string', default: 'auto', coerce: deviceFlag, describe: 'cpu, cuda, cuda:N, or auto (the first GPU, else the CPU)' },
  dtype: { choices: ['f32', 'bf16'] as const, describe: 'Compute dtype (default: bf16 on GPU with fp32 master weights, f32 on CPU)' },
  steps: { type: 'number', coerce: positiveInteger('--steps'), describe: 'Optimizer steps to train to (the learning-rate schedule ends here)' },
  warmup: { type: 'number', coerce: nonNegativeInteger('--warmup'), describe: 'Linear warmup steps' },
  'eval-every': { type: 'number', default: 100, coerce: nonNegativeInteger('--eval-every'), describe: 'Validation every N steps (and at the start and end); 0 = never' },
  'save-every': { type: 'number', default: 1000, coerce: nonNegativeInteger('--save-every'), describe: 'Checkpoint every N steps (and at the end, and on SIGINT/SIGTERM); 0 = only those' },
  resume: { type: 'boolean', describe: 'Continue the run checkpointed in --out (weights, optimizer, step, data position)' },
  freeze: { type: 'string', coerce: freezeFlag, describe: 'Keep the parameters whose Hugging Face name matches this regular expression as they are (e.g. embed_tokens)' },
  'skip-nonfinite': { type: 'boolean', default: false, describe: 'Skip a step whose loss or gradient is NaN/Inf instead of stopping' },
  metrics: { type: 'string', coerce: outputFile('--metrics'), describe: 'Append metrics JSONL here instead of stdout' },
  gpus: { type: 'number', default: 1, coerce: positiveInteger('--gpus'), describe: 'Data parallel: one process per GPU on this machine (NCCL); across nodes set RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT as torchrun does' },
  'master-port': { type: 'number', default: 29500, coerce: validator<number>('--master-port', 'a port number', (v) => Number.isInteger(v) && v >= 1 && v <= 65535), describe: 'Port rank 0 listens on with --gpus' },
  'peak-tflops': { type: 'number', coerce: positiveNumber('--peak-tflops'), describe: 'Peak TFLOP/s for MFU (default: known for H100/H200/A100)' },
} as const satisfies Record<string, Options>;

/**
 * A training command's run: its output set up (or, as the --gpus launcher, nothing to do), the
 * rank-0 --rejects sink, the closing summary on stderr, exit code 130 after SIGINT/SIGTERM, and
 * the dashboard stopped whatever happens.
 */
export async function runTraining<R extends { interrupted?: string }>(
  command: string,
  argv: LoopArgs & { rejects?: string },
  train: (output: TrainingOutput, rejects: RejectSink | undefined) => Promise<R>,
  summary: (result: R) => string,
): Promise<void> {
  const output = await trainingOutput(command, argv);
  if (!output) return;
  const rejects = argv.rejects && output.world.rank === 0 ? new RejectSink(argv.rejects) : undefined;
  try {
    const result = await train(output, rejects);
    await output.close();
    if (output.world.rank === 0 && !argv.quiet)
      process.stderr.write(`${command}: ${result.interrupted ? `interrupted by ${result.interrupted} at` : 'done,'} ${summary(result)}${result.interrupted ? '; continue with --resume' : ''}\n`);
    if (result.interrupted) process.exitCode = 130;
  } catch (err) {
    await output.close();
    throw err;
  } finally {
    rejects?.close();
  }
}

/** Flags every fine-tuning command (sft, rm) has besides the loop's; a preset fills what is not given. */
export const FINE_TUNE_FLAGS = {
  init: { type: 'string', describe: 'The checkpoint to start from; required unless --resume' },
  'val-fraction': { type: 'number', default: 0.05, coerce: fraction('--val-fraction'), describe: 'Share of --data held out for validation (seeded)' },
  'max-len': { type: 'number', coerce: positiveInteger('--max-len'), describe: "Tokens per sequence (preset's by default)" },
  'system-prompt': { type: 'string', default: 'You are a helpful assistant.', describe: 'System prompt of conversations that have none' },
  epochs: { type: 'number', coerce: positiveNumber('--epochs'), describe: 'Passes over the data instead of --steps' },
  lr: { type: 'number', coerce: positiveNumber('--lr'), describe: "Peak learning rate (preset's by default)" },
  'min-lr-ratio': { type: 'number', coerce: fraction('--min-lr-ratio'), describe: 'Where the cosine after warmup ends, as a fraction of the peak (presets: 1, constant)' },
  'weight-decay': { type: 'number', coerce: nonNegativeNumber('--weight-decay'), describe: "AdamW decoupled weight decay (preset's by default)" },
  clip: { type: 'number', coerce: nonNegativeNumber('--clip'), describe: "Clip the global gradient norm (preset's by default)" },
  dropout: { type: 'number', coerce: validator<number>('--dropout', 'a number from 0 up to (not including) 1', (v) => v >= 0 && v < 1), describe: "Residual dropout (preset's by default)" },
  'on-error': { choices: ['fail', 'skip'] as const, default: 'fail' as const, describe: 'A record that cannot be read or fitted: fail (exit 1) or drop it and go on' },
  rejects: { type: 'string', describe: 'Write every dropped record here (JSONL, with its reason and file:line)' },
  ...LOOP_FLAGS,
} as const satisfies Record<string, Options>;

/** The values of those flags a fine-tuning command's args hold (whatever else they hold). */
interface FineTuneArgs {
  data?: string[];
  'val-data'?: string[];
  init?: string;
  out?: string;
  resume?: boolean;
  steps?: number;
  epochs?: number;
  'max-len'?: number;
  lr?: number;
  warmup?: number;
  'min-lr-ratio'?: number;
  'weight-decay'?: number;
  clip?: number;
  dropout?: number;
}

/** The shared settings of a fine-tuning run: flags, else the preset's. */
export function fineTuneSettings(argv: FineTuneArgs, preset: { maxLen: number; lr: number; warmup: number; minLrRatio: number; weightDecay: number; clip: number; dropout: number }) {
  return {
    maxLen: argv['max-len'] ?? preset.maxLen,
    lr: argv.lr ?? preset.lr,
    warmup: argv.warmup ?? preset.warmup,
    minLrRatio: argv['min-lr-ratio'] ?? preset.minLrRatio,
    weightDecay: argv['weight-decay'] ?? preset.weightDecay,
    clip: argv.clip ?? preset.clip,
    dropout: argv.dropout ?? preset.dropout,
  };
}

/** The options every fine-tuning command passes its library function, from its flags and output. */
export function fineTuneRun(
  argv: FineTuneArgs & GlobalArgs & { dtype?: 'f32' | 'bf16'; 'eval-every': number; 'save-every': number; 'skip-nonfinite': boolean; 'on-error': OnError },
  { world, device, log, emit, freeze }: TrainingOutput,
  rejects: RejectSink | undefined,
  run: Record<string, unknown>,
) {
  return {
    data: argv.data!,
    valData: argv['val-data'],
    out: argv.out!,
    init: argv.init,
    resume: argv.resume ?? false,
    device,
    dtype: argv.dtype,
    epochs: argv.epochs,
    evalEvery: argv['eval-every'],
    saveEvery: argv['save-every'],
    seed: argv.seed,
    freeze,
    skipNonfinite: argv['skip-nonfinite'],
    onError: argv['on-error'],
    rejects,
    world,
    onRecord: emit,
    log,
    tokenizerFiles: world.rank === 0 && argv.init ? copyTokenizerFiles(argv.init) : undefined,
    run,
  };
}

/** The base checkpoint's tokenizer files, carried into each fine-tuned checkpoint. */
function copyTokenizerFiles(base: string): (dir: string) => void {
  return (dir) => {
    for (const name of ['tokenizer.json', 'tokenizer_config.json'])
      if (existsSync(join(base, name))) cpSync(join(base, name), join(dir, name));
  };
}

/** Usage errors every fine-tuning command checks before any work. */
export function checkFineTuneArgs(argv: FineTuneArgs, what: string): void {
  if (!argv.data?.length) throw new UsageError(`give the ${what} with --data FILE`);
  if (!argv.out) throw new UsageError('give the checkpoint directory with --out DIR');
  if (!argv.init && !argv.resume) throw new UsageError('give the checkpoint to start from with --init CKPT (or --resume a run in --out)');
  if (argv.steps !== undefined && argv.epochs !== undefined) throw new UsageError('give --steps or --epochs, not both');
  refuseOutputsOverInputs([...argv.data, ...(argv['val-data'] ?? []), ...(argv.init ? [argv.init] : [])], outputsOf(argv));
}

export interface LoopArgs extends GlobalArgs {
  device: string;
  metrics?: string;
  gpus: number;
  'master-port': number;
  steps?: number;
  freeze?: string;
}

export interface TrainingOutput {
  world: World;
  /** The device of this rank (`cuda:LOCAL_RANK` under --gpus with --device auto). */
  device: string;
  log: (line: string) => void;
  emit: (record: MetricsRecord) => void;
  /** Parameters --freeze keeps as they are. */
  freeze?: (name: string) => boolean;
  /** Stops the dashboard; then the closing summary may go to stderr. */
  close: () => Promise<void>;
}

/**
 * Runs the command once per GPU under --gpus N (returns null in the launcher), or sets up this
 * rank's output: log lines, metrics records, the dashboard.
 */
async function trainingOutput(command: string, argv: LoopArgs): Promise<TrainingOutput | null> {
  if (argv.gpus > 1 && process.env.WORLD_SIZE === undefined) {
    const code = await launchLocal(argv.gpus, process.argv.slice(2), argv['master-port']);
    if (code !== 0) throw new DataError(`${command}: a rank exited with code ${code}`);
    return null;
  }
  const world = worldFromEnv();
  const device = world.size > 1 && argv.device === 'auto' ? `cuda:${world.localRank}` : argv.device;
  const dashboard = !argv.quiet && argv.progress === 'auto' && process.stderr.isTTY && !process.env.CI && world.rank === 0;
  const ui = dashboard ? await (await import('../ui/dashboard.js')).startDashboard({ totalSteps: argv.steps }) : undefined;
  const log = (line: string) => (ui ? ui.log(line) : argv.quiet ? undefined : process.stderr.write(line + '\n'));
  if (argv.metrics) mkdirSync(dirname(argv.metrics), { recursive: true });
  // --progress json: every metrics record also goes to stderr, as the data commands' progress does.
  const jsonProgress = argv.progress === 'json' && !argv.quiet && world.rank === 0;
  const emit = (record: MetricsRecord) => {
    const line = JSON.stringify(record) + '\n';
    if (argv.metrics) appendFileSync(argv.metrics, line);
    else process.stdout.write(line);
    if (jsonProgress) process.stderr.write(JSON.stringify({ progress: `loom ${command}`, ...record }) + '\n');
    ui?.record(record);
  };
  const pattern = argv.freeze === undefined ? undefined : freezePattern(argv.freeze);
  return { world, device, log, emit, freeze: pattern && ((name) => pattern.test(name)), close: async () => ui?.stop() };
}

function deviceFlag(spec: string): string {
  try {
    parseDevice(spec);
  } catch {
    throw new UsageError(`--device must be cpu, cuda, cuda:N or auto, got ${JSON.stringify(spec)}`);
  }
  return spec;
}

function freezeFlag(source: string): string {
  freezePattern(source);
  return source;
}

function freezePattern(source: string): RegExp {
  try {
    return new RegExp(source);
  } catch (err) {
    throw new UsageError(`--freeze: ${(err as Error).message}`);
  }
}
