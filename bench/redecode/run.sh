#!/usr/bin/env bash
# Re-decode benchmark: prints
#   BENCH redecode msgs_per_s=<n> messages=<n> errors=<n> seconds=<x>
# over 1,000,000 stored raw messages (BENCH_QUICK=1 → 100,000; BENCH_MESSAGES overrides).
# Env: BYSANS_BUILD_DIR (default build/release).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BUILD_DIR="${BYSANS_BUILD_DIR:-$ROOT/build/release}"
BIN="$BUILD_DIR/bench/redecode/bench_redecode"
if [[ ! -x "$BIN" ]]; then
  if [[ ! -f "$BUILD_DIR/CMakeCache.txt" ]]; then
    cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" -DBYSANS_BUILD_BENCH=ON >&2
  fi
  cmake --build "$BUILD_DIR" --target bench_redecode -j2 >&2
fi
N=1000000
if [[ "${BENCH_QUICK:-0}" == "1" ]]; then N=100000; fi
N="${BENCH_MESSAGES:-$N}"
exec "$BIN" "$ROOT" "$N"
