#!/usr/bin/env bash
# Retention benchmark (issue 18): 30 simulated days of steady ingest into a real SqliteStore on a
# ManualClock (200 devices, one reading and one raw message each per simulated minute) with a
# 7-day retention of readings and raw messages, cleanup running each simulated hour; the file size
# (database + WAL) per day; the same ingest without cleanup into a second store, a simulated day
# of each in turn. Prints
#   BENCH retention size_growth_after_day7_pct=<x> ingest_ratio=<with/without>
# Env: BYSANS_BUILD_DIR (default build/release), BENCH_DAYS (30).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
# shellcheck source=../lib.sh
source "$HERE/../lib.sh"
BIN="$(bench_tool retention)"
exec "$BIN"
