#!/usr/bin/env bash
# Store benchmark: prints
#   BENCH store append_rows_per_s=<n> agg_year_ms=<x> latest_10k_ms=<y>
# append rate over the last 1M of 20M readings (10,000 devices x 6 keys), hourly
# aggregation over a year of 10-minute readings, Latest of 10,000 devices.
# Env: BYSANS_BUILD_DIR (default build/release), BENCH_QUICK=1 (2M readings).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
# shellcheck source=../lib.sh
source "$HERE/../lib.sh"
BIN="$(bench_tool store)"
exec "$BIN"
