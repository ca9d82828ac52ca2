#!/usr/bin/env bash
# Store benchmark: prints
#   BENCH store append_rows_per_s=<n> agg_year_ms=<x> latest_10k_ms=<y>
# append rate over the last 1M of 20M readings (10,000 devices x 6 keys), hourly
# aggregation over a year of 10-minute readings, Latest of 10,000 devices.
# Env: BYSANS_BUILD_DIR (default build/release), BENCH_QUICK=1 (2M readings).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BUILD_DIR="${BYSANS_BUILD_DIR:-$ROOT/build/release}"
BIN="$BUILD_DIR/bench/store/bench_store"
if [[ ! -x "$BIN" ]]; then
  if [[ ! -f "$BUILD_DIR/CMakeCache.txt" ]]; then
    cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" -DBYSANS_BUILD_BENCH=ON >&2
  fi
  cmake --build "$BUILD_DIR" --target bench_store -j2 >&2
fi
exec "$BIN"
