#!/usr/bin/env bash
# Store benchmark: the same workload on SQLite and on PostgreSQL 15 (started by the benchmark in a
# temporary folder, tests/support/postgres_instance.h); prints
#   BENCH store append_rows_per_s=<n> agg_year_ms=<x> latest_10k_ms=<y> ...      (SQLite)
#   BENCH postgres append_rows_per_s=<n> agg_year_ms=<x> latest_10k_ms=<y> ...   (PostgreSQL)
# append rate over the last 1M of 20M readings (10,000 devices x 6 keys), hourly
# aggregation over a year of 10-minute readings, Latest of 10,000 devices.
# Env: BYSANS_BUILD_DIR (default build/release), BENCH_QUICK=1 (2M readings),
# BENCH_STORE=sqlite|postgres|both (default both), BENCH_EXPLAIN=1 (PostgreSQL: print the plans of the
# Latest and rollup statements after the measurements), BENCH_PG_STATEMENTS=1 (PostgreSQL: the
# backend time, calls and WAL of the 15 costliest statements, from pg_stat_statements),
# BENCH_PG_WRITERS (PostgreSQL: the store's group-commit writers, default 2),
# BENCH_PG_COMMIT_READINGS (PostgreSQL: readings per group commit at most, the store's default).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
# shellcheck source=../lib.sh
source "$HERE/../lib.sh"
BIN="$(bench_tool store)"
exec "$BIN"
