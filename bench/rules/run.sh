#!/bin/sh
# Rule engine micro-benchmark (engine alone, no store): 10,000 rules over
# 10,000 devices. Builds bench_rules_engine in a Release tree and prints
#   BENCH rules_engine readings_per_s=<n> rules=10000 devices=10000 ...
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BYSANS_BENCH_BUILD_DIR:-$ROOT/build/release}
if [ ! -f "$BUILD/build.ninja" ]; then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBYSANS_BUILD_BENCH=ON >/dev/null
fi
cmake --build "$BUILD" --target bench_rules_engine -j2 >/dev/null
exec "$BUILD/bench/rules/bench_rules_engine" "${BENCH_SECONDS:-3}"
