// Learning-rate schedule: linear warmup to the peak, then cosine decay to a floor (10% of peak).

export interface Schedule {
  peak: number;
  warmup: number;
  /** Steps of the whole run: the cosine reaches the floor here and stays there. */
  total: number;
  /** Floor as a fraction of the peak. */
  minRatio: number;
}

/** Learning rate of 0-based step `step`. */
export function learningRate(s: Schedule, step: number): number {
  if (step < s.warmup) return (s.peak * (step + 1)) / s.warmup;
  const span = Math.max(1, s.total - s.warmup);
  const progress = Math.min(1, (step - s.warmup) / span);
  const min = s.peak * s.minRatio;
  return min + 0.5 * (s.peak - min) * (1 + Math.cos(Math.PI * progress));
}
