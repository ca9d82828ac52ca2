#!/usr/bin/env bash
# CoAP ingest benchmark (issue 20). Prints one line:
#   BENCH coap msgs_per_s= acked_missing= cpu_us_per_msg= devices= acked= stored= errors= retransmits=
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
if [[ ! -x "$LOAD" || ! -x "$BYSANS_BIN" ]]; then
  if [[ ! -f "$BYSANS_BUILD_DIR/CMakeCache.txt" ]]; then
    cmake -S "$ROOT" -B "$BYSANS_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DBYSANS_BUILD_BENCH=ON >&2
  fi
  cmake --build "$BYSANS_BUILD_DIR" --target bysans bench_coap_load -j2 >&2
fi
command -v sqlite3 >/dev/null || { echo "run.sh: the sqlite3 CLI is needed" >&2; exit 1; }

TMP="$(mktemp -d /tmp/bysans-bench-coap-XXXXXX)"
DATA="$TMP/data"
mkdir -p "$DATA"
cleanup() {
  stop_bysans || true
  rm -rf "$TMP"
}
trap cleanup EXIT

BYSANS_COAP_ENABLED=true BYSANS_COAP_UDP_PORT=0 BYSANS_COAP_DTLS_PORT=-1 start_bysans "$DATA"
for _ in $(seq 1 100); do [[ -s "$DATA/coap.url" ]] && break; sleep 0.1; done
COAP_PORT="$(sed -n 's#.*:\([0-9]*\)$#\1#p' "$DATA/coap.url")"

JAR="$TMP/jar"
curl -fsS -c "$JAR" -H 'Content-Type: application/json' \
  -d "{\"email\":\"$BENCH_ADMIN_EMAIL\",\"password\":\"$BENCH_ADMIN_PASSWORD\"}" \
  "$BYSANS_URL/api/v1/auth/login" >/dev/null
ORG=$(curl -fsS -b "$JAR" -H 'Content-Type: application/json' -d '{"name":"Bench Kommune"}' \
  "$BYSANS_URL/api/v1/organizations" | json_field id)
APP=$(curl -fsS -b "$JAR" -H 'Content-Type: application/json' -d '{"name":"Water meters"}' \
  "$BYSANS_URL/api/v1/organizations/$ORG/applications" | json_field id)
: >"$TMP/keys"
for i in $(seq 1 "$DEVICES"); do
  key=$(curl -fsS -b "$JAR" -H 'Content-Type: application/json' \
    -d "{\"name\":\"NB-IoT meter $i\",\"transport\":\"http\"}" \
    "$BYSANS_URL/api/v1/applications/$APP/devices" | json_field apiKey)
  echo "$key" >>"$TMP/keys"  # json_field ends without a newline
done
echo "run.sh: $DEVICES devices created; CoAP on port $COAP_PORT" >&2

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$BYSANS_PID/stat"; }
HZ="$(getconf CLK_TCK)"
CPU0="$(cpu_ticks)"
RESULT="$("$LOAD" "$COAP_PORT" "$SECONDS_RUN" "$TMP/keys" | grep '^RESULT ')"
CPU1="$(cpu_ticks)"
echo "run.sh: $RESULT" >&2
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $RESULT"; }
ACKED="$(field acked)"
ERRORS="$(field errors)"
RETRANSMITS="$(field retransmits)"
ELAPSED="$(field seconds)"

stop_bysans
STORED="$(sqlite3 "file:$DATA/bysans.db?mode=ro" \
  'SELECT coalesce((SELECT id + n - 1 FROM raw_log ORDER BY id DESC LIMIT 1), 0)')"
MISSING=$((ACKED > STORED ? ACKED - STORED : 0))
MSGS_PER_S="$(awk -v a="$ACKED" -v s="$ELAPSED" 'BEGIN { printf "%d", a / s }')"
CPU_US="$(awk -v t=$((CPU1 - CPU0)) -v hz="$HZ" -v a="$ACKED" \
  'BEGIN { if (a > 0) printf "%.1f", t * 1e6 / hz / a; else print 0 }')"
echo "BENCH coap msgs_per_s=$MSGS_PER_S acked_missing=$MISSING cpu_us_per_msg=$CPU_US" \
  "devices=$DEVICES acked=$ACKED stored=$STORED errors=$ERRORS retransmits=$RETRANSMITS"
[[ "$MISSING" -eq 0 ]] || { echo "run.sh: $MISSING acknowledged messages are missing" >&2; exit 1; }
