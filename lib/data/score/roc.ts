/** Area under the ROC curve: the probability that a random positive scores above a random negative (ties count half). */
export function rocAuc(positives: readonly number[], negatives: readonly number[]): number {
  const all = [...positives.map((s) => [s, 1] as const), ...negatives.map((s) => [s, 0] as const)].sort((a, b) => a[0] - b[0]);
  let rankSum = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j < all.length && all[j]![0] === all[i]![0]) j++;
    const rank = (i + j + 1) / 2; // mean 1-based rank of the tied run
    for (let t = i; t < j; t++) if (all[t]![1] === 1) rankSum += rank;
    i = j;
  }
  const p = positives.length;
  const n = negatives.length;
  return p > 0 && n > 0 ? (rankSum - (p * (p + 1)) / 2) / (p * n) : 0.5;
}
