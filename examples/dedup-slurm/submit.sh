#!/usr/bin/env bash
# Multi-stage `loom dedup` as four Slurm job arrays chained with dependencies.
#
#   ./submit.sh 'data/extracted/*.jsonl.gz' work/ out/        # INPUTS WORK OUT
#
# Each array task writes its own files plus a `.done` marker, so resubmitting after a failure
# (or a preemption) redoes only the unfinished tasks. Tune the task counts to your cluster:
# TASKS splits the input files (file f goes to task f mod TASKS), BUCKET_TASKS the 14 bands plus
# the exact space, CLUSTER_PARTS the parallel union-find reduction.
set -euo pipefail
INPUTS=${1:?input files or glob, quoted}
WORK=${2:?work directory (shared filesystem)}
OUT=${3:?output directory}
TASKS=${TASKS:-64}
BUCKET_TASKS=${BUCKET_TASKS:-15}
CLUSTER_PARTS=${CLUSTER_PARTS:-4}
# How the nodes run loom (not LOOM: loom reads LOOM_* variables as flags); by default this
# checkout's own, which the nodes must see at the same path. BIN=loom uses the one on their PATH.
BIN=${BIN:-node $(cd "$(dirname "$0")/../.." && pwd)/dist/bin/loom.js}
DEDUP_FLAGS=${DEDUP_FLAGS:-}   # e.g. "--keep longest --url"; signatures needs the same flags every time
mkdir -p "$WORK/logs" "$OUT"

common=(--parsable --output "$WORK/logs/%x-%A_%a.log" --export "ALL,BIN=$BIN,INPUTS=$INPUTS,WORK=$WORK,OUT=$OUT,DEDUP_FLAGS=$DEDUP_FLAGS")

sig=$(sbatch "${common[@]}" --job-name dedup-signatures --array "0-$((TASKS - 1))" --cpus-per-task 4 --mem 8G \
  --wrap "\$BIN dedup signatures \$INPUTS --work \$WORK --shard \$SLURM_ARRAY_TASK_ID/$TASKS --workers 3 \$DEDUP_FLAGS")
buckets=$(sbatch "${common[@]}" --job-name dedup-buckets --dependency "afterok:$sig" --array "0-$((BUCKET_TASKS - 1))" --mem 16G \
  --wrap "\$BIN dedup buckets --work \$WORK --shard \$SLURM_ARRAY_TASK_ID/$BUCKET_TASKS")
parts=$(sbatch "${common[@]}" --job-name dedup-cluster-parts --dependency "afterok:$buckets" --array "0-$((CLUSTER_PARTS - 1))" --mem 16G \
  --wrap "\$BIN dedup clusters --work \$WORK --shard \$SLURM_ARRAY_TASK_ID/$CLUSTER_PARTS")
clusters=$(sbatch "${common[@]}" --job-name dedup-clusters --dependency "afterok:$parts" --mem 32G \
  --wrap "\$BIN dedup clusters --work \$WORK --parts $CLUSTER_PARTS --report \$WORK/clusters.jsonl")
sbatch "${common[@]}" --job-name dedup-filter --dependency "afterok:$clusters" --array "0-$((TASKS - 1))" --mem 4G \
  --wrap "\$BIN dedup filter --work \$WORK --shard \$SLURM_ARRAY_TASK_ID/$TASKS --out \$OUT/part-\$SLURM_ARRAY_TASK_ID --rejects \$OUT/dups-\$SLURM_ARRAY_TASK_ID.jsonl"
echo "submitted: signatures $sig → buckets $buckets → cluster parts $parts → clusters $clusters → filter" >&2
