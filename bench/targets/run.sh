#!/usr/bin/env bash
# Data targets benchmark (issue 16). Prints one line:
#   BENCH targets stored_msgs_per_s= delivered_per_s= ratio_vs_no_targets= lag_p99_ms=
#         backlog_drain_msgs_per_s= ...
# 1. bysans with BENCH_DEVICES MQTT devices (bench/mqtt's load generator publishes QoS 1 room
#    readings); no targets: the stored rate for BENCH_STORE_S seconds at the offered load
#    BENCH_RATE (0 = as fast as the devices' windows allow).
# 2. BENCH_TARGETS (2) targets on the devices' application: HTTP push (batchSize 500) to a path
#    of receiver.py each, the last one an MQTT publish target (QoS 1) to a second Mosquitto whose
#    messages bench_mqtt_target_reader counts for receiver.py (BENCH_MQTT_TARGET=0: HTTP only); the same load
#    again: stored rate with targets (ratio to
#    step 1) and delivered records per second per target (until the receiver has them all).
# 3. Half the step-2 rate for BENCH_LAT_S seconds: p99 of (arrival at the receiver -
#    receivedAt) over every record delivered meanwhile.
# 4. Targets paused, BENCH_BACKLOG_S seconds of load at full rate, then resumed: records per
#    second each target drains (the slower of them).
# Env: BYSANS_BUILD_DIR, BENCH_DEVICES (200),
# BENCH_STORE_S (15), BENCH_LAT_S (8), BENCH_BACKLOG_S (10), BENCH_WINDOW (20), BENCH_RATE (0),
# BENCH_TARGETS (2), BENCH_MQTT_TARGET (1), BENCH_PAUSED=1 (the targets are paused during step 2: the share log's own
# cost on ingest, without delivery competing for the CPU), BENCH_PERF=<file> (a CPU profile of
# bysans during step 4).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
export BYSANS_BUILD_DIR="${BYSANS_BUILD_DIR:-$ROOT/build/release}"
source "$HERE/../lib.sh"
LOAD="${BENCH_MQTT_LOAD:-$BYSANS_BUILD_DIR/bench/mqtt/bench_mqtt_load}"
READER="$BYSANS_BUILD_DIR/bench/targets/bench_mqtt_target_reader"
DEVICES="${BENCH_DEVICES:-200}"
STORE_S="${BENCH_STORE_S:-15}"
LAT_S="${BENCH_LAT_S:-8}"
BACKLOG_S="${BENCH_BACKLOG_S:-10}"
WINDOW="${BENCH_WINDOW:-20}"
RATE="${BENCH_RATE:-0}"
TARGETS="${BENCH_TARGETS:-2}"
if [[ ! -x "$LOAD" || ! -x "$READER" || ! -x "$BYSANS_BIN" ]]; then
  cmake --build "$BYSANS_BUILD_DIR" --target bysans bench_mqtt_load bench_mqtt_target_reader -j2 >&2
fi

TMP="$(mktemp -d /tmp/bysans-bench-targets-XXXXXX)"
DATA="$TMP/data"
mkdir -p "$DATA"
RX_PID=""
cleanup() {
  [[ -n "$RX_PID" ]] && kill "$RX_PID" 2>/dev/null && wait "$RX_PID" 2>/dev/null
  pkill -f "bench_mqtt_target_reader" 2>/dev/null || true
  [[ -n "${MQTT_TARGET_PID:-}" ]] && kill "$MQTT_TARGET_PID" 2>/dev/null && wait "$MQTT_TARGET_PID" 2>/dev/null
  stop_bysans || true
  rm -rf "$TMP"
}
trap cleanup EXIT
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }
now_ms() { date +%s%3N; }

export BYSANS_OUTBOUND_ALLOW=127.0.0.0/8  # the receiver is on loopback
start_bysans "$DATA"
for _ in $(seq 1 200); do [[ -s "$DATA/mqtt.url" ]] && break; sleep 0.1; done
MQTT_PORT="$(sed -n 's#.*:\([0-9]*\)$#\1#p' "$DATA/mqtt.url")"
DB="$DATA/bysans.db"
python3 "$HERE/setup.py" "$BYSANS_URL" "$TMP" "$DEVICES"
for _ in $(seq 1 100); do
  [[ "$(grep -c '^device-' "$DATA/mosquitto/passwords" 2>/dev/null)" -ge "$DEVICES" ]] && break
  sleep 0.1
done
sleep 0.5  # the broker's SIGHUP reload
load() {  # load RATE SECONDS: prints the generator's RESULT line
  "$LOAD" --port "$MQTT_PORT" --devices "$TMP/devices" --mode bysans --rate "$1" \
    --seconds "$2" --window "$WINDOW" --db "$DB" --pid "$BYSANS_PID"
}

# --- 1. no targets ---------------------------------------------------------------------
BASE_OUT=$(load "$RATE" "$STORE_S")
echo "run.sh: no targets: $BASE_OUT" >&2
BASE_RATE=$(field rate "$BASE_OUT")

# --- 2. with targets ---------------------------------------------------------------------
# The last target publishes to a broker of its own (a second Mosquitto on loopback with its
# default settings, as a municipality's), read by bench_mqtt_target_reader into the receiver;
# BENCH_MQTT_TARGET=0: HTTP only.
MQTT_TARGET_PID=""
if [[ "${BENCH_MQTT_TARGET:-1}" != 0 ]]; then
  TARGET_BROKER_PORT=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
  printf 'listener %s 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\nmax_inflight_messages 1000\n' \
    "$TARGET_BROKER_PORT" >"$TMP/target-broker.conf"
  mosquitto -c "$TMP/target-broker.conf" >"$TMP/target-broker.log" 2>&1 &
  MQTT_TARGET_PID=$!
  sleep 0.5
  export BENCH_MQTT_TARGET_URL="mqtt://127.0.0.1:$TARGET_BROKER_PORT"
  "$READER" "$TARGET_BROKER_PORT" 'bench/#' \
    | python3 "$HERE/receiver.py" "$TMP/rx.port" "/t$((TARGETS - 1))" &
else
  python3 "$HERE/receiver.py" "$TMP/rx.port" &
fi
RX_PID=$!
for _ in $(seq 1 100); do [[ -s "$TMP/rx.port" ]] && break; sleep 0.1; done
RX="http://127.0.0.1:$(cat "$TMP/rx.port")"
python3 "$HERE/setup.py" "$BYSANS_URL" "$TMP" targets "$RX" "$TARGETS" \
  "${BENCH_PAUSED:+paused}"
sleep 1  # the targets' workers start (the share filter is on at once)
delivered() {  # the smallest count over the targets
  curl -fsS "$RX/stats" | python3 -c "import json,sys; c=json.load(sys.stdin)['count']; \
print(min([c.get('/t%d' % i, 0) for i in range($TARGETS)]))"
}
T0=$(now_ms)
WITH_OUT=$(load "$RATE" "$STORE_S")
echo "run.sh: with $TARGETS targets: $WITH_OUT" >&2
WITH_RATE=$(field rate "$WITH_OUT")
WITH_SEEN=$(field seen "$WITH_OUT")
[[ -n "${BENCH_PAUSED:-}" ]] && python3 "$HERE/setup.py" "$BYSANS_URL" "$TMP" resume
for _ in $(seq 1 1200); do (( $(delivered) >= WITH_SEEN )) && break; sleep 0.1; done
DELIVER_MS=$(( $(now_ms) - T0 ))
DELIVERED_RATE=$(awk -v n="$(delivered)" -v ms="$DELIVER_MS" 'BEGIN { printf "%d", n * 1000 / ms }')

# --- 3. lag at half the rate -------------------------------------------------------------
HALF=$(awk -v r="$WITH_RATE" 'BEGIN { printf "%d", r / 2 }')
curl -fsS -X POST "$RX/reset" >/dev/null
LAT_OUT=$(load "$HALF" "$LAT_S")
sleep 2
LAG_P99=$(curl -fsS "$RX/stats" | python3 -c "import json,sys; print('%.0f' % json.load(sys.stdin)['lag_p99_ms'])")
echo "run.sh: half rate: $LAT_OUT lag_p99_ms=$LAG_P99" >&2

# --- 4. backlog drain --------------------------------------------------------------------
python3 "$HERE/setup.py" "$BYSANS_URL" "$TMP" pause
sleep 1
BEFORE=$(delivered)
BACKLOG_OUT=$(load 0 "$BACKLOG_S")
BACKLOG=$(field seen "$BACKLOG_OUT")
PERF_PID=""
if [[ -n "${BENCH_PERF:-}" ]]; then  # BENCH_PERF=<file>: perf record -g of bysans while it drains
  perf record -q -F 999 -g -p "$BYSANS_PID" -o "$BENCH_PERF" 2>/dev/null &
  PERF_PID=$!
fi
T0=$(now_ms)
python3 "$HERE/setup.py" "$BYSANS_URL" "$TMP" resume
for _ in $(seq 1 6000); do (( $(delivered) - BEFORE >= BACKLOG )) && break; sleep 0.1; done
DRAIN_MS=$(( $(now_ms) - T0 ))
[[ -n "$PERF_PID" ]] && kill -INT "$PERF_PID" && wait "$PERF_PID" || true
DRAIN_RATE=$(awk -v n="$BACKLOG" -v ms="$DRAIN_MS" 'BEGIN { printf "%d", n * 1000 / ms }')
echo "run.sh: backlog of $BACKLOG records drained in $DRAIN_MS ms" >&2

RATIO=$(awk -v a="$WITH_RATE" -v b="$BASE_RATE" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
echo "BENCH targets stored_msgs_per_s=$WITH_RATE delivered_per_s=$DELIVERED_RATE" \
  "ratio_vs_no_targets=$RATIO lag_p99_ms=$LAG_P99 backlog_drain_msgs_per_s=$DRAIN_RATE" \
  "no_targets_msgs_per_s=$BASE_RATE targets=$TARGETS devices=$DEVICES backlog=$BACKLOG" \
  "latency_rate=$HALF"
