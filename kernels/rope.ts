// Qwen's length extrapolation constants, computed on the host (they are per-sequence scalars).

/**
 * Dynamic NTK-aware base: Qwen scales the rotary base once a sequence outgrows the training
 * length, with alpha = 2^ceil(log2(seqLen / trainLen) + 1) - 1 and
 * base' = base * alpha^(D / (D - 2)). Within the training length the base is unchanged.
 */
export function ropeBase(base: number, headDim: number, seqLen: number, trainLen: number): number {
  if (seqLen <= trainLen) return base;
  const alpha = Math.max(2 ** Math.ceil(Math.log2(seqLen / trainLen) + 1) - 1, 1);
  return base * alpha ** (headDim / (headDim - 2));
}

/**
 * transformers' `dynamic` rope scaling (rope_scaling {"type": "dynamic", "factor"}): beyond the
 * training length, base' = base * (factor * seqLen / trainLen - (factor - 1))^(D / (D - 2)).
 */
export function dynamicRopeBase(base: number, headDim: number, seqLen: number, trainLen: number, factor: number): number {
  if (seqLen <= trainLen) return base;
  return base * (factor * seqLen / trainLen - (factor - 1)) ** (headDim / (headDim - 2));
}

/** LogN attention scaling of the query at 0-based position p: log_L(p+1) beyond L, else 1. */
export function lognScale(position: number, trainLen: number): number {
  return trainLen > 0 && position + 1 > trainLen ? Math.log(position + 1) / Math.log(trainLen) : 1;
}
