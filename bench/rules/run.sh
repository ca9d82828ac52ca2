#!/usr/bin/env bash
# Rules benchmarks. Prints two lines:
#   BENCH rules_engine readings_per_s=<n> ...          the engine alone (bench_rules_engine)
#   BENCH rules ingest_with_rules_per_s=<n> ingest_without_per_s=<n> ratio=<x> alarm_p99_ms=<x> ...
# The second starts two identical release bysans servers (A, B) with 10,000 HTTP devices each
# (10 applications) and gives B 10,000 rules of mixed kinds (device thresholds, for-duration,
# rate of change, application-scoped; tool.py). wrk then drives HTTP ingest spreading requests
# over all 10,000 ingest keys (ingest.lua), same load, alternating A B B A, so a change of the
# machine's background load hits both alike: ingest_without_per_s (A) vs ingest_with_rules_per_s
# (B). Then, on B at half its measured peak (wrk paced), tool.py sends probe readings that raise
# alarms (20 a second, each cleared again a few seconds later) on 200 devices whose rules call
# a webhook receiver in tool.py, and measures the time from the ingest POST's 204 (sent after
# the commit) to the webhook's arrival, on the same clock:
# alarm_p99_ms. alarm_p99_from_send_ms is the same from the moment the POST was sent (an
# upper bound). rules_backlog_ms: right after the peak run with rules, how long until a probe
# alarm arrives (a rules thread that fell behind the peak load would show here).
# Env: BYSANS_BUILD_DIR (default build/release), BENCH_DURATION (10s per peak run, 2 runs each),
# BENCH_CONNECTIONS (64), BENCH_THREADS (2), BENCH_DEVICES (10000), BENCH_RULES (10000),
# BENCH_PROBE_SECONDS (15), BENCH_PROBE_RATE (20 alarms/s), BENCH_SECONDS (engine bench, 3);
# BENCH_SKIP_BUILD=1 with BYSANS_BIN
# (and BENCH_ENGINE_BIN) runs given binaries without building.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
export BYSANS_BUILD_DIR="${BYSANS_BUILD_DIR:-$ROOT/build/release}"
BUILD="$BYSANS_BUILD_DIR"
DURATION="${BENCH_DURATION:-10s}"
CONNS="${BENCH_CONNECTIONS:-64}"
WRK_THREADS="${BENCH_THREADS:-2}"
DEVICES="${BENCH_DEVICES:-10000}"
# One organisation holds them all: its limit of devices (limits.max_devices_per_org) must let it.
export BYSANS_LIMITS_MAX_DEVICES_PER_ORG="${BYSANS_LIMITS_MAX_DEVICES_PER_ORG:-$DEVICES}"
RULES="${BENCH_RULES:-10000}"
PROBES="${BENCH_PROBES:-200}"
# The probes' webhooks go to a receiver on loopback, which the outbound policy refuses unless
# allowed (without it every probe alarm was lost: alarm_samples=0).
export BYSANS_OUTBOUND_ALLOW="${BYSANS_OUTBOUND_ALLOW:-127.0.0.1/32}"
# And its rules, the probes' included (limits.max_rules_per_org).
export BYSANS_LIMITS_MAX_RULES_PER_ORG="${BYSANS_LIMITS_MAX_RULES_PER_ORG:-$((RULES + PROBES + 10))}"
PROBE_RATE="${BENCH_PROBE_RATE:-20}"
PROBE_SECONDS="${BENCH_PROBE_SECONDS:-15}"

command -v wrk >/dev/null || { echo "run.sh: wrk is not installed" >&2; exit 1; }
if [[ -z "${BENCH_SKIP_BUILD:-}" ]]; then
  if [[ ! -f "$BUILD/build.ninja" ]]; then
    cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBYSANS_BUILD_BENCH=ON >&2
  fi
  cmake --build "$BUILD" --target bysans bench_rules_engine -j2 >&2
fi

# --- the engine alone ---------------------------------------------------------
ENGINE="${BENCH_ENGINE_BIN:-$BUILD/bench/rules/bench_rules_engine}"
"$ENGINE" "${BENCH_SECONDS:-3}"

# --- the whole server ---------------------------------------------------------
# shellcheck source=../lib.sh
source "$ROOT/bench/lib.sh"
export BENCH_ADMIN_EMAIL BENCH_ADMIN_PASSWORD
TMP="$(mktemp -d)"
WRK_PID=""
PIDS=()
cleanup() {
  [[ -n "$WRK_PID" ]] && kill "$WRK_PID" 2>/dev/null || true
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$TMP"
}
trap cleanup EXIT

# Two identical servers: A never gets rules, B gets the 10,000 rules. Peak runs alternate
# A B B A so that a change of the machine's background load hits both alike.
mkdir -p "$TMP/a/data" "$TMP/b/data"
start_bysans "$TMP/a/data"
URL_A="$BYSANS_URL"
PIDS+=("$BYSANS_PID")
start_bysans "$TMP/b/data"
URL_B="$BYSANS_URL"
PIDS+=("$BYSANS_PID")
BYSANS_PID=""
echo "run.sh: bysans A (no rules) at $URL_A, B (rules) at $URL_B; $DEVICES devices each" >&2
python3 "$HERE/tool.py" devices "$URL_A" "$DEVICES" "$TMP/a"
python3 "$HERE/tool.py" devices "$URL_B" "$DEVICES" "$TMP/b"
RECV_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"

# run_wrk LABEL URL DIR CONNECTIONS DURATION → sets REQ_PER_S (integer), P99_MS, REQUESTS
# and SECONDS_RUN. DIR holds the server's ingest keys (keys.txt).
run_wrk() {
  local label="$1" url="$2" dir="$3" conns="$4" duration="$5" out="$TMP/wrk-$1.txt" stats bad
  BENCH_KEYS="$dir/keys.txt" wrk -t"$WRK_THREADS" -c"$conns" -d"$duration" --latency \
    -s "$HERE/ingest.lua" "$url" >"$out" 2>&1 || { cat "$out" >&2; return 1; }
  stats="$(grep '^STATS ' "$out" || true)"
  [[ -n "$stats" ]] || { cat "$out" >&2; return 1; }
  REQ_PER_S="$(sed -n 's/.* req_per_s=\([0-9.]*\).*/\1/p' <<<"$stats")"
  REQ_PER_S="$(awk -v v="$REQ_PER_S" 'BEGIN { printf "%d", v }')"
  P99_MS="$(sed -n 's/.* p99_us=\([0-9]*\).*/\1/p' <<<"$stats")"
  P99_MS="$(awk -v v="$P99_MS" 'BEGIN { printf "%.2f", v / 1000 }')"
  REQUESTS="$(sed -n 's/.* requests=\([0-9]*\).*/\1/p' <<<"$stats")"
  SECONDS_RUN="$(sed -n 's/.* duration_us=\([0-9]*\).*/\1/p' <<<"$stats")"
  bad="$(sed -n 's/.* errors_status=\([0-9]*\).*/\1/p' <<<"$stats")"
  echo "run.sh: $label: $REQ_PER_S req/s, p99 $P99_MS ms, $REQUESTS requests, $bad non-2xx" >&2
  if ((bad * 100 > REQUESTS)); then
    echo "run.sh: WARNING: $label answered $bad of $REQUESTS requests with an error status" >&2
  fi
}

echo "run.sh: creating $RULES rules on B" >&2
python3 "$HERE/tool.py" rules "$URL_B" "$TMP/b" "$RULES" "$PROBES" \
  "http://127.0.0.1:$RECV_PORT/hook"
# The rules thread loads rule changes in order: one probe alarm arriving proves it caught up.
python3 "$HERE/tool.py" probe "$URL_B" "$TMP/b" 1 1 1 "$RECV_PORT" >"$TMP/loaded.txt"
echo "run.sh: rules loaded: $(cat "$TMP/loaded.txt")" >&2

export BENCH_DELAY_MS=0
run_wrk warmup_a "$URL_A" "$TMP/a" "$CONNS" 3s
run_wrk warmup_b "$URL_B" "$TMP/b" "$CONNS" 3s
REQ_A=0 US_A=0 REQ_B=0 US_B=0
for label in a1 b1 b2 a2; do
  if [[ "$label" == a* ]]; then
    run_wrk "without_rules_$label" "$URL_A" "$TMP/a" "$CONNS" "$DURATION"
    REQ_A=$((REQ_A + REQUESTS)) US_A=$((US_A + SECONDS_RUN)) WITHOUT_P99="$P99_MS"
  else
    run_wrk "with_rules_$label" "$URL_B" "$TMP/b" "$CONNS" "$DURATION"
    REQ_B=$((REQ_B + REQUESTS)) US_B=$((US_B + SECONDS_RUN)) WITH_P99="$P99_MS"
  fi
done
WITHOUT_RPS="$(awk -v r="$REQ_A" -v u="$US_A" 'BEGIN { printf "%d", (u > 0 ? r * 1e6 / u : 0) }')"
WITH_RPS="$(awk -v r="$REQ_B" -v u="$US_B" 'BEGIN { printf "%d", (u > 0 ? r * 1e6 / u : 0) }')"
kill "${PIDS[0]}" 2>/dev/null || true  # A is done: the latency phase runs on B alone
BYSANS_URL="$URL_B"
python3 "$HERE/tool.py" probe "$URL_B" "$TMP/b" 1 1 1 "$RECV_PORT" >"$TMP/backlog.txt"
BACKLOG_MS="$(sed -n 's/.* max_ms=\([0-9.]*\).*/\1/p' "$TMP/backlog.txt")"

# Half the peak (with rules): wrk connections paced by a 50 ms pause after each answer;
# a 3 s calibration run measures what one connection achieves, then the count is scaled.
HALF=$((WITH_RPS / 2))
PACE_MS=50
PACED_CONNS=$(((HALF * (PACE_MS + 5) + 999) / 1000))
((PACED_CONNS < WRK_THREADS)) && PACED_CONNS=$WRK_THREADS
BENCH_DELAY_MS=$PACE_MS run_wrk calibrate "$URL_B" "$TMP/b" "$PACED_CONNS" 3s
if ((REQ_PER_S > 0)); then
  PACED_CONNS=$(((PACED_CONNS * HALF + REQ_PER_S / 2) / REQ_PER_S))
fi
((PACED_CONNS < WRK_THREADS)) && PACED_CONNS=$WRK_THREADS
((PACED_CONNS > 4000)) && PACED_CONNS=4000
echo "run.sh: half load: target $HALF req/s with $PACED_CONNS paced connections" >&2
BENCH_KEYS="$TMP/b/keys.txt" BENCH_DELAY_MS=$PACE_MS wrk -t"$WRK_THREADS" -c"$PACED_CONNS" -d"$((PROBE_SECONDS + 10))s" --latency \
  -s "$HERE/ingest.lua" "$BYSANS_URL" >"$TMP/wrk-half.txt" 2>&1 &
WRK_PID=$!
sleep 2
python3 "$HERE/tool.py" probe "$URL_B" "$TMP/b" "$PROBES" "$PROBE_RATE" "$PROBE_SECONDS" \
  "$RECV_PORT" >"$TMP/probe.txt"
wait "$WRK_PID" || true
WRK_PID=""
HALF_RPS="$(sed -n 's/^STATS .* req_per_s=\([0-9.]*\).*/\1/p' "$TMP/wrk-half.txt")"
HALF_RPS="$(awk -v v="${HALF_RPS:-0}" 'BEGIN { printf "%d", v }')"
PROBE="$(cat "$TMP/probe.txt")"
echo "run.sh: half load: $HALF_RPS req/s achieved; $PROBE" >&2
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<" $PROBE"; }

if grep -qi "dropped\|queue full" "$TMP/b/data/server.log"; then
  echo "run.sh: WARNING: the server log mentions dropped batches:" >&2
  grep -i "dropped\|queue full" "$TMP/b/data/server.log" | head -5 >&2
fi

RATIO="$(awk -v a="$WITH_RPS" -v b="$WITHOUT_RPS" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
echo "BENCH rules ingest_with_rules_per_s=$WITH_RPS ingest_without_per_s=$WITHOUT_RPS" \
  "ratio=$RATIO alarm_p99_ms=$(field p99_ms) alarm_p50_ms=$(field p50_ms)" \
  "alarm_p99_from_send_ms=$(field p99_from_send_ms) alarm_max_ms=$(field max_ms)" \
  "alarm_samples=$(field samples) alarm_lost=$(field lost) half_load_req_per_s=$HALF_RPS" \
  "rules_backlog_ms=${BACKLOG_MS:-0} with_rules_p99_ms=$WITH_P99 without_p99_ms=$WITHOUT_P99" \
  "rules=$RULES devices=$DEVICES"
