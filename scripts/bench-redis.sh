#!/usr/bin/env bash
# PostgreSQL -> Redis only: the "raw" and "sync" workloads of scripts/bench.sh (docs/benchmarks.md).
#   scripts/bench-redis.sh [--quick] [--jfr] [--no-build] [--out DIR]
exec "$(dirname "$0")/bench.sh" --only raw,sync "$@"
