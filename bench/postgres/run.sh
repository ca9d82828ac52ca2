#!/usr/bin/env bash
# Issue 19's PostgreSQL benchmark, in one run (bench/postgres/README.md):
#   1. bench/mqtt on SQLite (BENCH mqtt_ingest),
#   2. bench/mqtt on PostgreSQL, one node, at the SQLite run's offered load,
#   3. bench/mqtt on PostgreSQL, two nodes on one database and one broker, same offered load,
#   4. bench/store on PostgreSQL (BENCH_QUICK=1: 2M readings instead of 20M),
# each run's own BENCH line to stderr, then one line on stdout:
#   BENCH postgres mqtt_points_per_s= sqlite_mqtt_points_per_s= ratio= acked_missing=
#         append_rows_per_s= agg_year_ms= latest_10k_ms= two_nodes_ratio= ...
# Fails (exit 1) when a run fails, above all when anything acknowledged is missing.
# Env: those of bench/mqtt/run.sh (BENCH_DEVICES, BENCH_RAW_S, BENCH_STORE_S, BENCH_LAT_S,
# BENCH_WINDOW, BENCH_RATE: the offered load of all three MQTT runs instead of the SQLite run's,
# BENCH_KEEP) and of bench/store/run.sh (BENCH_QUICK); BENCH_STORE and BENCH_NODES are set here.
# BENCH_PAIRS (2): steps 2 and 3 run this many times, alternating (one node, two nodes, one, two,
# ...); the PostgreSQL figures are the means of their runs, and two_nodes_ratio the mean of each
# pair's own ratio (a pair's two runs are minutes apart, runs of one kind often not: this
# machine's speed drifts by ±20 % within minutes, as its raw broker's rate shows).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
export BYSANS_BUILD_DIR="${BYSANS_BUILD_DIR:-$ROOT/build/release}"
# shellcheck source=../lib.sh
source "$HERE/../lib.sh"

STATUS=0
# part NAME VAR=VALUE... -- SCRIPT: runs bench/SCRIPT/run.sh with the settings, shows its BENCH
# lines on stderr and sets LINE to its "BENCH NAME …" line (empty if it printed none). A failed
# run (e.g. acknowledged messages missing) makes this run fail at the end.
part() {
  local name="$1" out
  shift
  local settings=()
  while [[ "$1" != -- ]]; do settings+=("$1"); shift; done
  echo "== bench postgres: $2 ${settings[*]}" >&2
  out=$(env "${settings[@]}" bash "$ROOT/bench/$2/run.sh") || {
    echo "run.sh: bench/$2 (${settings[*]}) failed" >&2
    STATUS=1
  }
  grep '^BENCH ' <<<"$out" >&2 || true
  LINE=$(grep "^BENCH $name " <<<"$out" | tail -1 || true)
}

part mqtt_ingest BENCH_STORE=sqlite BENCH_NODES=1 -- mqtt
SQLITE="$LINE"
# The PostgreSQL runs get the SQLite run's offered load (its raw broker's lossless rate).
RATE="${BENCH_RATE:-$(field offered_msgs_per_s "$SQLITE")}"
RATE_SETTING=(BENCH_RATE="$RATE")
[[ -z "$RATE" ]] && RATE_SETTING=()
PAIRS="${BENCH_PAIRS:-2}"
PG1=() PG2=() PAIR_RATIOS=()
quotient() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
for _ in $(seq 1 "$PAIRS"); do
  part mqtt_ingest_postgres BENCH_STORE=postgres BENCH_NODES=1 "${RATE_SETTING[@]}" -- mqtt
  PG1+=("$LINE")
  part mqtt_ingest_postgres BENCH_STORE=postgres BENCH_NODES=2 "${RATE_SETTING[@]}" -- mqtt
  PG2+=("$LINE")
  PAIR_RATIOS+=("$(quotient "$(field points_per_s "$LINE")" "$(field points_per_s "${PG1[-1]}")")")
done
part postgres BENCH_STORE=postgres -- store
STORE="$LINE"

for line in "$SQLITE" "${PG1[@]}" "${PG2[@]}" "$STORE"; do [[ -n "$line" ]] || STATUS=1; done
# mean FIELD LINE...: the field's mean over the lines (0 without any), as the BENCH lines print it.
mean() {
  local name="$1" line sum=0 n=0
  shift
  for line in "$@"; do
    sum=$(awk -v s="$sum" -v v="$(field "$name" "$line" | grep . || echo 0)" 'BEGIN { print s + v }')
    n=$((n + 1))
  done
  awk -v s="$sum" -v n="$n" 'BEGIN { v = (n > 0 ? s / n : 0); printf (v == int(v) ? "%d" : "%.2f"), v }'
}
PG_PPS=$(mean points_per_s "${PG1[@]}")
SQLITE_PPS=$(field points_per_s "$SQLITE")
TWO_PPS=$(mean points_per_s "${PG2[@]}")
# Acknowledged messages missing in the PostgreSQL runs (a run without a line counts as failed).
MISSING=0
for line in "${PG1[@]}" "${PG2[@]}"; do
  MISSING=$((MISSING + $(field acked_missing "$line" | grep . || echo 0)))
done
((MISSING != 0)) && STATUS=1
RATIOS="${PAIR_RATIOS[*]}"
echo "BENCH postgres mqtt_points_per_s=${PG_PPS%.*} sqlite_mqtt_points_per_s=${SQLITE_PPS:-0}" \
  "ratio=$(quotient "$PG_PPS" "$SQLITE_PPS") acked_missing=$MISSING" \
  "append_rows_per_s=$(field append_rows_per_s "$STORE") agg_year_ms=$(field agg_year_ms "$STORE")" \
  "latest_10k_ms=$(field latest_10k_ms "$STORE")" \
  "two_nodes_ratio=$(awk -v r="$RATIOS" 'BEGIN { n = split(r, a, " "); for (i = 1; i <= n; i++) s += a[i]; printf "%.2f", (n ? s / n : 0) }')" \
  "two_nodes_pair_ratios=${RATIOS// /,} two_nodes_points_per_s=${TWO_PPS%.*} offered_msgs_per_s=${RATE:-0}" \
  "sqlite_cpu_us_per_msg=$(field cpu_us_per_msg "$SQLITE")" \
  "cpu_us_per_msg=$(mean cpu_us_per_msg "${PG1[@]}") pg_cpu_us_per_msg=$(mean pg_cpu_us_per_msg "${PG1[@]}")" \
  "two_nodes_cpu_us_per_msg=$(mean cpu_us_per_msg "${PG2[@]}")" \
  "two_nodes_pg_cpu_us_per_msg=$(mean pg_cpu_us_per_msg "${PG2[@]}")" \
  "p50_ms=$(mean p50_ms "${PG1[@]}") p99_ms=$(mean p99_ms "${PG1[@]}")" \
  "two_nodes_p99_ms=$(mean p99_ms "${PG2[@]}") pairs=$PAIRS store_quick=${BENCH_QUICK:-0}"
if ((STATUS != 0)); then
  echo "run.sh: FAILURE: a run failed or acknowledged messages are missing (PostgreSQL: $MISSING)" >&2
fi
exit "$STATUS"
