#!/usr/bin/env bash
# CoAP ingest benchmark (issue 20). Prints one line:
#   BENCH coap msgs_per_s= acked_missing= cpu_us_per_msg= devices= acked= stored= errors= retransmits=
#         separate=  (requests answered by an empty ACK then a separate 2.04, not piggybacked)
# 1. Starts a real release bysans with CoAP on (UDP port 0, no DTLS) and creates BENCH_DEVICES
#    HTTP devices (their ingest keys are their CoAP keys) through the API.
# 2. bench_coap_load: each device its own UDP socket, confirmable JSON POSTs one after another
#    (the next after the previous one's 2.04, which bysans sends after the commit) for
#    BENCH_SECONDS; msgs_per_s = 2.04 answers received per second.
# 3. bysans' CPU (utime+stime of its pid from /proc) over the run, per acknowledged message.
# 4. bysans is stopped cleanly; messages stored are counted in its database (raw_log ids);
#    acked_missing = acknowledged − stored (must be 0: the run fails otherwise).
# Env: BYSANS_BUILD_DIR (default build/release), BENCH_DEVICES (1000), BENCH_SECONDS (15).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
export BYSANS_BUILD_DIR="${BYSANS_BUILD_DIR:-$ROOT/build/release}"
source "$HERE/../lib.sh"
DEVICES="${BENCH_DEVICES:-1000}"
SECONDS_RUN="${BENCH_SECONDS:-15}"
LOAD="$BYSANS_BUILD_DIR/bench/coap/bench_coap_load"
build_missing bench_coap_load
need_sqlite3

TMP="$(mktemp -d /tmp/bysans-bench-coap-XXXXXX)"
DATA="$TMP/data"
mkdir -p "$DATA"
cleanup() {
  stop_bysans || true
  rm -rf "$TMP"
}
trap cleanup EXIT

BYSANS_COAP_ENABLED=true BYSANS_COAP_UDP_PORT=0 BYSANS_COAP_DTLS_PORT=-1 start_bysans "$DATA"
COAP_PORT="$(url_port "$DATA/coap.url")"

JAR="$TMP/jar"
bench_org_app "$JAR" "Water meters"
APP="$BENCH_APP"
: >"$TMP/keys"
for i in $(seq 1 "$DEVICES"); do
  key=$(curl -fsS -b "$JAR" -H 'Content-Type: application/json' \
    -d "{\"name\":\"NB-IoT meter $i\",\"transport\":\"http\"}" \
    "$BYSANS_URL/api/v1/applications/$APP/devices" | json_field apiKey)
  echo "$key" >>"$TMP/keys"  # json_field ends without a newline
done
echo "run.sh: $DEVICES devices created; CoAP on port $COAP_PORT" >&2

HZ="$(getconf CLK_TCK)"
# Per-thread CPU of bysans over the run: "name/tid utime+stime" per thread, in ticks.
thread_ticks() {
  for t in /proc/"$BYSANS_PID"/task/*; do
    echo "$(cat "$t/comm" 2>/dev/null | tr ' ' _)/${t##*/} $(awk '{ print $14 + $15 }' "$t/stat" 2>/dev/null)"
  done | sort
}
thread_ticks >"$TMP/threads0"
if [[ -n "${BENCH_PERF:-}" ]]; then  # BENCH_PERF=FILE: perf record -g of bysans, 5 s mid-run
  (sleep 4 && perf record -q -g -o "$BENCH_PERF" -p "$BYSANS_PID" -- sleep 5 >/dev/null 2>&1) &
  PERF_PID=$!
fi
CPU0="$(bysans_cpu_ticks)"
RESULT="$("$LOAD" "$COAP_PORT" "$SECONDS_RUN" "$TMP/keys" | grep '^RESULT ')"
CPU1="$(bysans_cpu_ticks)"
thread_ticks >"$TMP/threads1"
[[ -n "${PERF_PID:-}" ]] && wait "$PERF_PID"
echo "run.sh: bysans threads' CPU over the run (ms):" \
  "$(join -a 2 "$TMP/threads0" "$TMP/threads1" 2>/dev/null | awk -v hz="$HZ" \
    'NF == 3 && $3 - $2 > 0 { printf "%s=%d ", $1, ($3 - $2) * 1000 / hz }
     NF == 2 && $2 > 0 { printf "%s=%d ", $1, $2 * 1000 / hz }')" >&2
echo "run.sh: $RESULT" >&2
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $RESULT"; }
ACKED="$(field acked)"
ERRORS="$(field errors)"
RETRANSMITS="$(field retransmits)"
SEPARATE="$(field empty_acks)"
ELAPSED="$(field seconds)"

stop_bysans
STORED="$(sqlite3 "file:$DATA/bysans.db?mode=ro" \
  'SELECT coalesce((SELECT id + n - 1 FROM raw_log ORDER BY id DESC LIMIT 1), 0)')"
MISSING=$((ACKED > STORED ? ACKED - STORED : 0))
MSGS_PER_S="$(awk -v a="$ACKED" -v s="$ELAPSED" 'BEGIN { printf "%d", a / s }')"
CPU_US="$(awk -v t=$((CPU1 - CPU0)) -v hz="$HZ" -v a="$ACKED" \
  'BEGIN { if (a > 0) printf "%.1f", t * 1e6 / hz / a; else print 0 }')"
echo "BENCH coap msgs_per_s=$MSGS_PER_S acked_missing=$MISSING cpu_us_per_msg=$CPU_US" \
  "devices=$DEVICES acked=$ACKED stored=$STORED errors=$ERRORS retransmits=$RETRANSMITS" \
  "separate=${SEPARATE:-?}"
[[ "$MISSING" -eq 0 ]] || { echo "run.sh: $MISSING acknowledged messages are missing" >&2; exit 1; }
