#!/usr/bin/env bash
# Multi-stage `loom dedup` with GNU parallel on one machine (or many, with parallel --sshlogin).
#   ./parallel.sh 'data/*.jsonl.gz' work/ out/ 8
set -euo pipefail
# BIN: how loom is run; by default this checkout's own (BIN=loom uses the one on the PATH).
INPUTS=$1 WORK=$2 OUT=$3 TASKS=${4:-8} PARTS=${PARTS:-2} BIN=${BIN:-node $(cd "$(dirname "$0")/../.." && pwd)/dist/bin/loom.js}
seq 0 $((TASKS - 1)) | parallel --halt now,fail=1 "$BIN dedup signatures $INPUTS --work $WORK --shard {}/$TASKS --workers 1 -q"
seq 0 14 | parallel --halt now,fail=1 "$BIN dedup buckets --work $WORK --shard {}/15 -q"
seq 0 $((PARTS - 1)) | parallel --halt now,fail=1 "$BIN dedup clusters --work $WORK --shard {}/$PARTS -q"
$BIN dedup clusters --work "$WORK" --parts "$PARTS" --report "$WORK/clusters.jsonl"
seq 0 $((TASKS - 1)) | parallel --halt now,fail=1 "$BIN dedup filter --work $WORK --shard {}/$TASKS --out $OUT/part-{} --rejects $OUT/dups-{}.jsonl -q"
