#!/usr/bin/env bash
# Re-decode benchmark: prints
#   BENCH redecode msgs_per_s=<n> messages=<n> errors=<n> seconds=<x>
# over 1,000,000 stored raw messages (BENCH_QUICK=1 → 100,000; BENCH_MESSAGES overrides).
# Env: BYSANS_BUILD_DIR (default build/release).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
# shellcheck source=../lib.sh
source "$HERE/../lib.sh"
BIN="$(bench_tool redecode)"
N=1000000
if [[ "${BENCH_QUICK:-0}" == "1" ]]; then N=100000; fi
N="${BENCH_MESSAGES:-$N}"
exec "$BIN" "$ROOT" "$N"
