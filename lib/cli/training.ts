// What every training command's CLI shares: --gpus launching and the rank environment, the
// metrics sink (stdout or --metrics, and --progress json), the ink dashboard on a TTY with log
// lines above it, the options a fine-tuning command passes through, and the closing summary.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataError } from '../errors.js';
import { RejectSink } from '../io/rejects.js';
import type { OnError } from '../io/types.js';
import { launchLocal, worldFromEnv, type World } from '../train/distributed.js';
import type { MetricsRecord } from '../train/metrics.js';
import type { DashboardOptions } from '../ui/dashboard.js';
import { freezePattern, type FineTuneArgs } from './model-flags.js';
import type { GlobalArgs } from './options.js';

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
  look: Pick<DashboardOptions, 'charts'> = {},
): Promise<void> {
  const output = await trainingOutput(command, argv, look);
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
    run,
  };
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
async function trainingOutput(command: string, argv: LoopArgs, look: Pick<DashboardOptions, 'charts'>): Promise<TrainingOutput | null> {
  if (argv.gpus > 1 && process.env.WORLD_SIZE === undefined) {
    const code = await launchLocal(argv.gpus, process.argv.slice(2), argv['master-port']);
    if (code !== 0) throw new DataError(`${command}: a rank exited with code ${code}`);
    return null;
  }
  const world = worldFromEnv();
  const device = world.size > 1 && argv.device === 'auto' ? `cuda:${world.localRank}` : argv.device;
  const dashboard = !argv.quiet && argv.progress === 'auto' && process.stderr.isTTY && !process.env.CI && world.rank === 0;
  const ui = dashboard ? await (await import('../ui/dashboard.js')).startDashboard({ totalSteps: argv.steps, ...look }) : undefined;
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

