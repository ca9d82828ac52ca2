#!/usr/bin/env bash
# MQTT ingest benchmark. Prints one line:
#   BENCH mqtt_ingest raw_msgs_per_s= stored_msgs_per_s= ratio= points_per_s= acked_missing=
#         cpu_us_per_msg= p50_ms= p99_ms= peak_rss_mb= ...
# 1. Starts bysans (fresh data dir, supervised Mosquitto) and creates BENCH_DEVICES MQTT
#    devices through the API, each with its own broker credentials.
# 2. raw: a second Mosquitto with bysans' generated mosquitto.conf, passwords and acl (only
#    the port and directories changed); the devices publish QoS 1 room-sensor readings as fast
#    as their windows allow for BENCH_RAW_S seconds to a subscriber that only counts
#    (persistent session, QoS 1). Its lossless rate is the ceiling.
# 3. stored: the same devices publish at that same offered load into bysans' broker for
#    BENCH_STORE_S seconds; stored = committed rows seen by a read-only SQLite reader.
#    bysans' CPU (utime+stime of its pid, /proc) over publish, drain and the seal work the
#    run left (until bysans is idle), per stored message.
# 4. latency: at half the stored rate for BENCH_LAT_S seconds, publish → row visible to a
#    reader (i.e. committed), per message, after bysans went idle from step 3.
# 5. bysans is stopped cleanly; every publisher-acknowledged message must be in the database
#    (acked_missing = acknowledged − stored, must be 0: the run fails otherwise).
# Env: BYSANS_BUILD_DIR (default build/release), BENCH_DEVICES (200), BENCH_RAW_S (10),
#      BENCH_STORE_S (15), BENCH_LAT_S (8), BENCH_WINDOW (20 un-acked publishes per device),
#      BENCH_MQTT_LOAD (the generator binary, default from BYSANS_BUILD_DIR),
#      BENCH_RATE (offered load of the stored run; default: the raw run's lossless rate).
#      BENCH_KEEP (non-empty: keep the temporary folder, data and logs, for a look afterwards),
#      BENCH_PERF (a file: perf record -g of bysans during the stored run; BENCH_PERF_EVENT
#      samples another event than CPU time, e.g. page-faults),
#      BENCH_PERF_STAT (a file: syscalls, context switches, fdatasyncs (= commits) and
#      pwrites per thread, same phase; BENCH_PERF_STAT_EVENTS adds perf events).
#      BENCH_STORE=postgres: bysans on a PostgreSQL 15 the run starts (lib.sh start_postgres);
#      stored messages, latency and the final count read from its tables (bench_mqtt_load --pg);
#      prints BENCH mqtt_ingest_postgres (with nodes= and pg_cpu_us_per_msg=) instead.
#      BENCH_PG_STATEMENTS=1 (with postgres): the 15 statements that took the most backend time
#      (pg_stat_statements: ms, calls, rows, WAL), printed when the database stops.
#      BENCH_NODES=2 (PostgreSQL only): a second bysans on the same database, with its own data
#      dir and node id and node 1's secret.key, subscribed to node 1's supervised broker (as its
#      integrator user) in the shared-subscription group "bysans", as node 1 is; CPU, writes and
#      peak RSS summed over both.
#      BENCH_LORAWAN=1 (bench/lorawan/run.sh): ChirpStack v4 uplinks instead, published by one
#      connection with the integrator credentials (a local ChirpStack) for BENCH_DEVICES (1000)
#      LoRaWAN devices decoded by the shipped decoders, with BENCH_RULES (1000) threshold rules
#      (bench/lorawan/setup.py); window 1000; prints BENCH lorawan_ingest.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
export BYSANS_BUILD_DIR="${BYSANS_BUILD_DIR:-$ROOT/build/release}"
source "$HERE/../lib.sh"
LOAD="${BENCH_MQTT_LOAD:-$BYSANS_BUILD_DIR/bench/mqtt/bench_mqtt_load}"
LORAWAN="${BENCH_LORAWAN:-}"
DEVICES="${BENCH_DEVICES:-${LORAWAN:+1000}}"
DEVICES="${DEVICES:-200}"
RULES="${BENCH_RULES:-1000}"
# One organisation holds the devices and rules: its limits (limits.*) must let it.
export BYSANS_LIMITS_MAX_DEVICES_PER_ORG="${BYSANS_LIMITS_MAX_DEVICES_PER_ORG:-$((DEVICES > 10000 ? DEVICES : 10000))}"
export BYSANS_LIMITS_MAX_RULES_PER_ORG="${BYSANS_LIMITS_MAX_RULES_PER_ORG:-$((RULES > 1000 ? RULES : 1000))}"
RAW_S="${BENCH_RAW_S:-10}"
STORE_S="${BENCH_STORE_S:-15}"
LAT_S="${BENCH_LAT_S:-8}"
WINDOW="${BENCH_WINDOW:-${LORAWAN:+1000}}"
WINDOW="${WINDOW:-20}"
STORE="${BENCH_STORE:-sqlite}"
[[ "$STORE" == both ]] && STORE=sqlite  # bench/store's "both": the MQTT run uses SQLite
NODES="${BENCH_NODES:-1}"
case "$STORE/$NODES" in
  sqlite/1 | postgres/1 | postgres/2) ;;
  *) echo "run.sh: BENCH_STORE=sqlite|postgres, BENCH_NODES=1|2 (2 with postgres only)" >&2
     exit 2 ;;
esac
if [[ "$STORE" == postgres && -n "$LORAWAN" ]]; then
  echo "run.sh: BENCH_LORAWAN with BENCH_STORE=postgres is not measured (not tried)" >&2
  exit 2
fi

if [[ -n "${BENCH_MQTT_LOAD:-}" ]]; then build_missing; else build_missing bench_mqtt_load; fi
[[ "$STORE" == sqlite ]] && need_sqlite3

TMP="$(mktemp -d /tmp/bysans-bench-mqtt-XXXXXX)"
DATA="$TMP/data"
RAW="$TMP/raw-broker"
mkdir -p "$DATA" "$RAW"
RAW_PID=""
NODE2_PID=""
# stop_node2: stops the second bysans (BENCH_NODES=2), if running.
stop_node2() {
  [[ -n "$NODE2_PID" ]] && kill "$NODE2_PID" 2>/dev/null && wait "$NODE2_PID" 2>/dev/null
  NODE2_PID=""
}
cleanup() {
  [[ -n "$RAW_PID" ]] && kill "$RAW_PID" 2>/dev/null && wait "$RAW_PID" 2>/dev/null
  stop_node2 || true
  stop_bysans || true
  stop_postgres || true
  if [[ -n "${BENCH_KEEP:-}" ]]; then echo "run.sh: kept $TMP (BENCH_KEEP)" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

# --- 1. bysans and the devices --------------------------------------------------------
STORE_ARGS=(--db "$DATA/bysans.db")
if [[ "$STORE" == postgres ]]; then
  start_postgres
  STORE_ARGS=(--pg "$BENCH_PG_URL")
  # Both nodes (node 2 overrides the node id): one database, one shared-subscription group.
  export BYSANS_STORE_URL="$BENCH_PG_URL" BYSANS_NODE_ID=node-1
  ((NODES == 2)) && export BYSANS_MQTT_SHARED_GROUP=bysans
  echo "run.sh: PostgreSQL 15 at $BENCH_PG_URL, $NODES bysans node(s)" >&2
fi
start_bysans "$DATA"
MQTT_PORT="$(url_port "$DATA/mqtt.url")"
GEN_ARGS=()
if [[ -n "$LORAWAN" ]]; then
  BENCH_ADMIN_EMAIL="$BENCH_ADMIN_EMAIL" BENCH_ADMIN_PASSWORD="$BENCH_ADMIN_PASSWORD" \
    python3 "$ROOT/bench/lorawan/setup.py" "$BYSANS_URL" "$TMP" "$DEVICES" "$RULES"
  GEN_ARGS=(--chirpstack --pub-user bysans-integrator
    --pub-pass "$(head -1 "$DATA/mqtt-integrator.secret")")
  # BENCH_GATEWAY_ID= (empty): uplinks without rxInfo gatewayId (no gateway bookkeeping).
  [[ -n "${BENCH_GATEWAY_ID+x}" ]] && GEN_ARGS+=(--gateway-id "$BENCH_GATEWAY_ID")
else
JAR="$TMP/jar"
bench_org_app "$JAR" "Rooms"
APP="$BENCH_APP"
: >"$TMP/devices"
for i in $(seq 1 "$DEVICES"); do
  out=$(curl -fsS -b "$JAR" -H 'Content-Type: application/json' \
    -d "{\"name\":\"Room sensor $i\",\"transport\":\"mqtt\"}" \
    "$BYSANS_URL/api/v1/applications/$APP/devices")
  id=$(json_field id <<<"$out")
  user=$(sed -n 's/.*"username":"\([^"]*\)".*/\1/p' <<<"$out")
  pass=$(sed -n 's/.*"password":"\([^"]*\)".*/\1/p' <<<"$out")
  echo "$id $user $pass" >>"$TMP/devices"
done
# The broker's password file is regenerated within 200 ms of a change.
for _ in $(seq 1 100); do
  [[ "$(grep -c '^device-' "$DATA/mosquitto/passwords" 2>/dev/null)" -ge "$DEVICES" ]] && break
  sleep 0.1
done
sleep 0.5  # SIGHUP reload
echo "run.sh: $DEVICES MQTT devices created" >&2
fi
# The second node: same database and secret.key, its own data dir and node id, subscribed to node
# 1's supervised broker as its integrator user (all topics, $share/# included; the broker makes a
# client's id its user name) in the same shared-subscription group: the broker hands each
# message to one of the two nodes.
PIDS=("$BYSANS_PID")
if ((NODES == 2)); then
  DATA2="$TMP/data2"
  mkdir -m 700 "$DATA2"
  install -m 600 "$DATA/secret.key" "$DATA2/secret.key"
  NODE1_PID="$BYSANS_PID" NODE1_URL="$BYSANS_URL"
  BYSANS_NODE_ID=node-2 BYSANS_MQTT_CLIENT_ID=bysans-integrator \
    BYSANS_MQTT_URL="mqtt://bysans-integrator:$(head -1 "$DATA/mqtt-integrator.secret")@127.0.0.1:$MQTT_PORT" \
    start_bysans "$DATA2"
  NODE2_PID="$BYSANS_PID"
  BYSANS_PID="$NODE1_PID" BYSANS_URL="$NODE1_URL"
  PIDS+=("$NODE2_PID")
  echo "run.sh: node 2 (pid $NODE2_PID) on node 1's broker, shared group bysans" >&2
fi

# --- 2. raw pass-through: a copy of bysans' broker configuration --------------------------
RAW_PORT="$(free_port)"
cp "$DATA/mosquitto/passwords" "$DATA/mosquitto/acl" "$RAW/"
mkdir -p "$RAW/persistence"
# (As root the copy runs as root: its files here belong to root, not to the broker's user.)
sed -e "s#^listener [0-9]* #listener $RAW_PORT #" -e "s#$DATA/mosquitto#$RAW#g" \
  -e "s#^user .*#user root#" "$DATA/mosquitto/mosquitto.conf" >"$RAW/mosquitto.conf"
echo "run.sh: broker settings:" $(grep -E '^max_|^queue|^persist' "$RAW/mosquitto.conf") >&2
/usr/sbin/mosquitto -c "$RAW/mosquitto.conf" >"$RAW/mosquitto.log" 2>&1 &
RAW_PID=$!
for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$RAW_PORT") 2>/dev/null && break; sleep 0.1; done
(exec 3<>"/dev/tcp/127.0.0.1/$RAW_PORT") 2>/dev/null || {
  cat "$RAW/mosquitto.log" >&2; echo "run.sh: raw broker did not start" >&2; exit 1; }
# The counting subscriber: the integrator user, or bysans' own when ChirpStack (the
# publisher) is the integrator (one connection per user name).
SUB_USER=bysans-integrator
SUB_SECRET="$DATA/mqtt-integrator.secret"
[[ -n "$LORAWAN" ]] && SUB_USER="$(sed -n 2p "$DATA/mqtt-service.secret")" \
  && SUB_SECRET="$DATA/mqtt-service.secret"
RAW_OUT=$("$LOAD" --port "$RAW_PORT" --devices "$TMP/devices" --mode raw --rate 0 \
  --seconds "$RAW_S" --window "$WINDOW" --sub-user "$SUB_USER" \
  --sub-pass "$(head -1 "$SUB_SECRET")" "${GEN_ARGS[@]}") || {
  cat "$RAW/mosquitto.log" >&2; exit 1; }
echo "run.sh: raw: $RAW_OUT" >&2
kill "$RAW_PID" 2>/dev/null; wait "$RAW_PID" 2>/dev/null || true
RAW_PID=""
RAW_RATE=$(field rate "$RAW_OUT")
RAW_MISSING=$(field missing "$RAW_OUT")

# --- 3. bysans at the same offered load ---------------------------------------------------
cpu_ticks() { bysans_cpu_ticks "${PIDS[@]}"; }
# bysans and, on PostgreSQL, the database server: what "idle" waits for.
all_cpu_ticks() {
  if [[ "$STORE" == postgres ]]; then echo $(($(cpu_ticks) + $(postgres_cpu_ticks)))
  else cpu_ticks; fi
}
TICK_HZ=$(getconf CLK_TCK)
# CPU ticks per thread name ("name ticks" lines; threads name themselves, core/thread_name.h).
thread_ticks() {
  local p t
  for p in "${PIDS[@]}"; do
    for t in /proc/"$p"/task/*; do
      echo "$(tr ' ' _ <"$t/comm") $(sed 's/.*) //' "$t/stat" | awk '{ print $12 + $13 }')"
    done
  done 2>/dev/null | awk '{ s[$1] += $2 } END { for (n in s) print n, s[n] }'
}
CPU_T0=$(cpu_ticks)
NODE2_T0=$( ((NODES == 2)) && bysans_cpu_ticks "$NODE2_PID" || echo 0)
PG_T0=$([[ "$STORE" == postgres ]] && postgres_cpu_ticks || echo 0)
THREADS_T0=$(thread_ticks)
# proc_sum FILE KEY: the "KEY: n" line of /proc/<pid>/FILE summed over the nodes.
proc_sum() {
  local p
  for p in "${PIDS[@]}"; do cat "/proc/$p/$1"; done | awk -v k="$2:" '$1 == k { s += $2 } END { print s }'
}
wchar() { proc_sum io wchar; }
WCHAR0=$(wchar)
# BENCH_PERF=<file>: also record a CPU profile of bysans (perf record -g) during this phase.
PERF_PID=""
if [ -n "${BENCH_PERF_STAT:-}" ]; then  # BENCH_PERF_STAT=<file>: syscalls and switches per thread
  perf stat -e raw_syscalls:sys_enter,context-switches,syscalls:sys_enter_fdatasync,syscalls:sys_enter_pwrite64 ${BENCH_PERF_STAT_EVENTS:+-e $BENCH_PERF_STAT_EVENTS} --per-thread -p "$BYSANS_PID" \
    -o "$BENCH_PERF_STAT" -- sleep "$STORE_S" 2>/dev/null &
  PERF_PID=$!
elif [ -n "${BENCH_PERF:-}" ]; then
  perf record -q ${BENCH_PERF_EVENT:+-e $BENCH_PERF_EVENT} -F "${BENCH_PERF_HZ:-1999}" ${BENCH_PERF_CALLGRAPH:--g} -p "$BYSANS_PID" -o "$BENCH_PERF" -- sleep "$STORE_S" 2>/dev/null &
  PERF_PID=$!
fi
STORE_OUT=$("$LOAD" --port "$MQTT_PORT" --devices "$TMP/devices" --mode bysans \
  --rate "${BENCH_RATE:-$RAW_RATE}" --seconds "$STORE_S" --window "$WINDOW" "${STORE_ARGS[@]}" \
  --pid "$BYSANS_PID" "${GEN_ARGS[@]}")
WCHAR1=$(wchar)
[ -n "$PERF_PID" ] && wait "$PERF_PID"
echo "run.sh: stored: $STORE_OUT" >&2
STORED_RATE=$(field rate "$STORE_OUT")
STORE_SEEN=$(field seen "$STORE_OUT")

# --- 4. latency at half the stored rate ---------------------------------------------------
# First let bysans finish the work the full-load run left (sealing its last segments), so
# this phase measures half load, not the tail of the previous one: wait until bysans uses
# under 5% of a core over half a second (at most 60 s); on PostgreSQL bysans and the database
# server together (its autovacuum after the inserts, checkpoints).
for _ in $(seq 1 120); do
  c0=$(all_cpu_ticks); sleep 0.5; c1=$(all_cpu_ticks)
  (( (c1 - c0) * 1000 / TICK_HZ < 25 )) && break
done
# bysans' CPU for the stored run: publish, drain and the seal work it left.
CPU_US=$(( ($(cpu_ticks) - CPU_T0) * 1000000 / TICK_HZ ))
# PostgreSQL's CPU, without the backend that answered the generator's polls.
PG_CPU_US=$([[ "$STORE" == postgres ]] && echo $(( ($(postgres_cpu_ticks) - PG_T0) * 1000000 / TICK_HZ - $(field db_reader_cpu_us "$STORE_OUT" | grep . || echo 0) )) || echo 0)
NODE2_CPU_US=$( ((NODES == 2)) && echo $(( ($(bysans_cpu_ticks "$NODE2_PID") - NODE2_T0) * 1000000 / TICK_HZ )) || echo 0)
# Where that CPU went, per thread name, in µs per stored message (stderr).
echo "run.sh: cpu_us_per_msg by thread:" $(join -a 2 -e 0 -o 0,1.2,2.2 \
  <(echo "$THREADS_T0" | sort) <(thread_ticks | sort) |
  awk -v hz="$TICK_HZ" -v n="$STORE_SEEN" '{ d = ($3 - $2) * 1e6 / hz / n
    if (d >= 0.05) printf "%s=%.1f ", $1, d }') >&2
HALF=$(awk -v r="$STORED_RATE" 'BEGIN { printf "%d", r / 2 }')
LAT_OUT=$("$LOAD" --port "$MQTT_PORT" --devices "$TMP/devices" --mode bysans --rate "$HALF" \
  --seconds "$LAT_S" --window "$WINDOW" "${STORE_ARGS[@]}" --latency "${GEN_ARGS[@]}")
echo "run.sh: latency: $LAT_OUT" >&2
PEAK_RSS_KB=$(proc_sum status VmHWM)

# --- 5. clean stop, then count what is durable ------------------------------------------------
stop_node2
stop_bysans
ACKED=$(($(field acked "$STORE_OUT") + $(field acked "$LAT_OUT")))
# SQLite: raw_log rows, read with bysans' codec; PostgreSQL: raw_messages and readings rows.
COUNTS=$("$LOAD" --mode count "${STORE_ARGS[@]}")
# Stored = MQTT messages stored without an error; LoRaWAN: uplinks stored, decoded or not
# (decode_errors counts those stored with a decode error: every frame sent is valid, so any
# error fails the run too).
STORED=$(field mqtt "$COUNTS")
DECODE_ERRORS=$(field lorawan_errors "$COUNTS")
[[ -n "$LORAWAN" ]] && STORED=$(($(field lorawan "$COUNTS") + DECODE_ERRORS))
ALL_MSGS=$(field all "$COUNTS")
if [[ "$STORE" == postgres ]]; then POINTS=$(field points "$COUNTS")
else POINTS=$(sqlite3 "$DATA/bysans.db" "SELECT coalesce(sum(n), 0) FROM chunks"); fi
MISSING=$((ACKED - STORED))
if [[ "$STORE" == postgres ]]; then  # e.g. deadlocks or lock timeouts between the nodes' writers
  echo "run.sh: PostgreSQL log: $(grep -c ' ERROR: ' "$BENCH_PG_DIR/postgres.log" || true) errors" \
    "$(grep -o ' ERROR: .*' "$BENCH_PG_DIR/postgres.log" | sort | uniq -c | sort -rn | head -3 | tr -s ' \n' ' ')" >&2
fi
echo "run.sh: acknowledged $ACKED, stored $STORED $([[ -n "$LORAWAN" ]] && echo "LoRaWAN uplinks" || echo "mqtt messages") ($ALL_MSGS rows), $POINTS points" >&2

RATIO=$(awk -v s="$STORED_RATE" -v r="$RAW_RATE" 'BEGIN { printf "%.2f", (r > 0 ? s / r : 0) }')
PPS=$(awk -v s="$STORED_RATE" -v p="$POINTS" -v m="$STORED" \
  'BEGIN { printf "%d", (m > 0 ? s * p / m : 0) }')
CPU_PER=$(awk -v c="$CPU_US" -v n="$STORE_SEEN" 'BEGIN { printf "%.1f", (n > 0 ? c / n : 0) }')
# Bytes bysans wrote (write syscalls: WAL, checkpoints, logs) per stored message.
WRITE_KB=$(awk -v a="$WCHAR0" -v b="$WCHAR1" -v n="$STORE_SEEN" \
  'BEGIN { printf "%.2f", (n > 0 ? (b - a) / n / 1024 : 0) }')
RSS_MB=$(awk -v k="$PEAK_RSS_KB" 'BEGIN { printf "%.1f", k / 1024 }')
if [[ -n "$LORAWAN" ]]; then
  echo "BENCH lorawan_ingest raw_msgs_per_s=$RAW_RATE stored_msgs_per_s=$STORED_RATE" \
    "ratio=$RATIO acked_missing=$MISSING cpu_us_per_msg=$CPU_PER" \
    "p99_ms=$(field p99_ms "$LAT_OUT") p50_ms=$(field p50_ms "$LAT_OUT")" \
    "points_per_s=$PPS decode_errors=$DECODE_ERRORS peak_rss_mb=$RSS_MB" \
    "raw_missing=$RAW_MISSING write_kb_per_msg=$WRITE_KB devices=$DEVICES rules=$RULES" \
    "offered_msgs_per_s=${BENCH_RATE:-$RAW_RATE} latency_rate=$HALF"
else
NAME=mqtt_ingest
EXTRA=""
if [[ "$STORE" == postgres ]]; then
  # pg_cpu_us_per_msg: the PostgreSQL server's CPU over the same span (bysans' own is
  # cpu_us_per_msg); node2_cpu_share: node 2's part of the nodes' CPU (0 = it took no part).
  NAME=mqtt_ingest_postgres
  EXTRA="nodes=$NODES pg_cpu_us_per_msg=$(awk -v c="$PG_CPU_US" -v n="$STORE_SEEN" \
    'BEGIN { printf "%.1f", (n > 0 ? c / n : 0) }')"
  ((NODES == 2)) && EXTRA+=" node2_cpu_share=$(awk -v a="$NODE2_CPU_US" -v c="$CPU_US" \
    'BEGIN { printf "%.2f", (c > 0 ? a / c : 0) }')"
fi
echo "BENCH $NAME raw_msgs_per_s=$RAW_RATE stored_msgs_per_s=$STORED_RATE ratio=$RATIO" \
  "points_per_s=$PPS acked_missing=$MISSING cpu_us_per_msg=$CPU_PER" \
  "p50_ms=$(field p50_ms "$LAT_OUT") p99_ms=$(field p99_ms "$LAT_OUT") peak_rss_mb=$RSS_MB" \
  "raw_missing=$RAW_MISSING write_kb_per_msg=$WRITE_KB devices=$DEVICES" \
  "offered_msgs_per_s=${BENCH_RATE:-$RAW_RATE}" \
  "latency_rate=$HALF${EXTRA:+ $EXTRA}"
fi
if ((MISSING != 0 || RAW_MISSING != 0)); then
  echo "run.sh: FAILURE: acknowledged messages are missing (bysans $MISSING, raw $RAW_MISSING)" >&2
  exit 1
fi
if ((${DECODE_ERRORS:-0} != 0)); then
  echo "run.sh: FAILURE: $DECODE_ERRORS uplinks were stored with a decode error" >&2
  exit 1
fi
