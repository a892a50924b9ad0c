// How a training run stops on a signal: SIGINT/SIGTERM ask it to finish the current step and write
// a checkpoint; a second signal exits at once. Every training loop (trainLoop, PPO's) polls `reason`.

/** SIGINT/SIGTERM finish the current step and checkpoint; a second one exits at once. */
export function interruption(rank0: boolean, log: (line: string) => void) {
  const state: { reason?: string; dispose: () => void } = { dispose: () => {} };
  let signals = 0;
  const on = (name: string) => () => {
    signals += 1;
    if (signals > 1) {
      log(`train: ${name} again; exiting without a checkpoint`);
      process.exit(130);
    }
    state.reason = name;
    if (rank0) log(`train: ${name}: finishing the current step, then writing a checkpoint (again to exit at once)`);
  };
  const handlers = { SIGINT: on('SIGINT'), SIGTERM: on('SIGTERM') };
  process.on('SIGINT', handlers.SIGINT);
  process.on('SIGTERM', handlers.SIGTERM);
  state.dispose = () => {
    process.off('SIGINT', handlers.SIGINT);
    process.off('SIGTERM', handlers.SIGTERM);
  };
  return state;
}
