# Shared helpers for bench/*/run.sh (sourced). Starts a real bysans on a free
# port with a fresh data directory and creates an HTTP device through the API.
BENCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BYSANS_BUILD_DIR="${BYSANS_BUILD_DIR:-$BENCH_ROOT/build/release}"
BYSANS_BIN="${BYSANS_BIN:-$BYSANS_BUILD_DIR/bin/bysans}"
BENCH_ADMIN_EMAIL="bench@bysans.local"
BENCH_ADMIN_PASSWORD="bench-password-123"

# start_bysans DATA_DIR [extra args...]: starts bysans, sets BYSANS_PID and BYSANS_URL.
# BENCH_PRELOAD: a library to LD_PRELOAD into bysans (e.g. to compare allocators).
start_bysans() {
  local dir="$1"; shift
  BYSANS_ADMIN_EMAIL="$BENCH_ADMIN_EMAIL" BYSANS_ADMIN_PASSWORD="$BENCH_ADMIN_PASSWORD" \
    BYSANS_LOG_LEVEL=warn env ${BENCH_PRELOAD:+LD_PRELOAD=$BENCH_PRELOAD} "$BYSANS_BIN" serve --data-dir "$dir" --http-port 0 --mqtt-port 0 "$@" \
    >"$dir/server.log" 2>&1 &
  BYSANS_PID=$!
  for _ in $(seq 1 600); do
    if [ -s "$dir/http.url" ]; then
      BYSANS_URL=$(cat "$dir/http.url")
      curl -fsS "$BYSANS_URL/healthz" >/dev/null 2>&1 && return 0
    fi
    sleep 0.1
  done
  echo "bysans did not start; log:" >&2; cat "$dir/server.log" >&2
  return 1
}

# json_field NAME: reads JSON on stdin, prints the first string/number value of NAME.
json_field() {
  sed -n "s/.*\"$1\":\(\"\([^\"]*\)\"\|\([0-9.]*\)\).*/\2\3/p" | head -1
}

# create_http_device: logs in as the bench admin, creates org/app/device; prints the ingest key.
create_http_device() {
  local jar; jar=$(mktemp)
  curl -fsS -c "$jar" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$BENCH_ADMIN_EMAIL\",\"password\":\"$BENCH_ADMIN_PASSWORD\"}" \
    "$BYSANS_URL/api/v1/auth/login" >/dev/null
  local org app
  org=$(curl -fsS -b "$jar" -H 'Content-Type: application/json' -d '{"name":"Bench Kommune"}' \
    "$BYSANS_URL/api/v1/organizations" | json_field id)
  app=$(curl -fsS -b "$jar" -H 'Content-Type: application/json' -d '{"name":"Bench"}' \
    "$BYSANS_URL/api/v1/organizations/$org/applications" | json_field id)
  curl -fsS -b "$jar" -H 'Content-Type: application/json' \
    -d '{"name":"Bench device","transport":"http"}' \
    "$BYSANS_URL/api/v1/applications/$app/devices" | json_field apiKey
  rm -f "$jar"
}

stop_bysans() {
  [ -n "${BYSANS_PID:-}" ] && kill "$BYSANS_PID" 2>/dev/null && wait "$BYSANS_PID" 2>/dev/null
  BYSANS_PID=""
}

# bench_tool NAME: prints the path of the benchmark program bench/NAME/bench_NAME in the build
# directory, configured (with the benchmarks) and built first when it is missing.
bench_tool() {
  local bin="$BYSANS_BUILD_DIR/bench/$1/bench_$1"
  if [[ ! -x "$bin" ]]; then
    if [[ ! -f "$BYSANS_BUILD_DIR/CMakeCache.txt" ]]; then
      cmake -S "$BENCH_ROOT" -B "$BYSANS_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" -DBYSANS_BUILD_BENCH=ON >&2
    fi
    cmake --build "$BYSANS_BUILD_DIR" --target "bench_$1" -j2 >&2
  fi
  echo "$bin"
}

# build_missing TARGET...: builds bysans and the given benchmark targets in BYSANS_BUILD_DIR when
# bysans or a bench/<name>/<target> program is missing (configured with the benchmarks first
# when the directory has no build yet).
build_missing() {
  local missing=""
  [[ -x "$BYSANS_BIN" ]] || missing=1
  local t
  for t in "$@"; do
    # bench/<folder>/<target>, the folder not always the target's name (bench_mqtt_load: mqtt)
    [[ -n "$(find "$BYSANS_BUILD_DIR/bench" -mindepth 2 -maxdepth 2 -name "$t" -type f \
      -perm -u+x 2>/dev/null)" ]] || missing=1
  done
  [[ -z "$missing" ]] && return 0
  if [[ ! -f "$BYSANS_BUILD_DIR/CMakeCache.txt" ]]; then
    cmake -S "$BENCH_ROOT" -B "$BYSANS_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DBYSANS_BUILD_BENCH=ON >&2
  fi
  cmake --build "$BYSANS_BUILD_DIR" --target bysans "$@" -j2 >&2
}

# need_sqlite3: the sqlite3 CLI counts what was stored.
need_sqlite3() {
  command -v sqlite3 >/dev/null || { echo "run.sh: the sqlite3 CLI is needed" >&2; exit 1; }
}

# url_port FILE: waits (up to 20 s) for a <data>/*.url file bysans writes and prints its port.
url_port() {
  for _ in $(seq 1 200); do [[ -s "$1" ]] && break; sleep 0.1; done
  sed -n 's#.*:\([0-9]*\)$#\1#p' "$1"
}

# bench_org_app JAR APP_NAME: logs in as the bench admin (cookie jar JAR), creates the
# organisation "Bench Kommune" and an application in it; sets BENCH_ORG and BENCH_APP.
bench_org_app() {
  curl -fsS -c "$1" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$BENCH_ADMIN_EMAIL\",\"password\":\"$BENCH_ADMIN_PASSWORD\"}" \
    "$BYSANS_URL/api/v1/auth/login" >/dev/null
  BENCH_ORG=$(curl -fsS -b "$1" -H 'Content-Type: application/json' \
    -d '{"name":"Bench Kommune"}' "$BYSANS_URL/api/v1/organizations" | json_field id)
  BENCH_APP=$(curl -fsS -b "$1" -H 'Content-Type: application/json' -d "{\"name\":\"$2\"}" \
    "$BYSANS_URL/api/v1/organizations/$BENCH_ORG/applications" | json_field id)
}

# bysans_cpu_ticks [PID...]: user + system CPU so far of bysans (BYSANS_PID) or of the processes
# given, summed, in clock ticks (getconf CLK_TCK).
bysans_cpu_ticks() {
  local p t=0
  for p in "${@:-$BYSANS_PID}"; do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat"))); done
  echo "$t"
}

# free_port: prints a loopback TCP port nobody listens on (probed, not reserved), below the
# kernel's ephemeral range: a port there may be the local end of another process's connection,
# which a probe cannot see and which made a broker's bind fail now and then ("Address already
# in use").
free_port() {
  local p low
  low="$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)"
  for _ in $(seq 1 100); do
    p=$((10000 + RANDOM % (low - 10000)))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

# field NAME KEY=VALUE-LINE: prints the value of NAME in a "k=v k=v" line.
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }

# start_postgres: a throw-away PostgreSQL 15 (as tests/support/postgres_instance.h does): initdb
# into a new /tmp/bysans-bench-pg-XXXXXX, `postgres` on a free loopback port with its socket in
# that folder, run as `nobody` when we are root (PostgreSQL refuses to run as root), durable
# (fsync, synchronous_commit on) with bench/store's sizes; creates the database "bysans".
# Sets BENCH_PG_DIR, BENCH_PG_URL and BENCH_PG_PID (the postmaster). stop_postgres ends it and
# removes the folder (BENCH_KEEP: kept). BYSANS_PG_BIN: the folder of initdb and postgres.
start_postgres() {
  local bin="${BYSANS_PG_BIN:-/usr/lib/postgresql/15/bin}" port as=()
  [[ -x "$bin/initdb" && -x "$bin/pg_ctl" ]] || {
    echo "run.sh: PostgreSQL 15 not found in $bin: install postgresql-15 (scripts/install-deps)" >&2
    return 1; }
  BENCH_PG_DIR="$(mktemp -d /tmp/bysans-bench-pg-XXXXXX)"
  if [[ "$(id -u)" == 0 ]]; then
    chown nobody: "$BENCH_PG_DIR"
    as=(runuser -u nobody --)
  fi
  "${as[@]}" "$bin/initdb" -D "$BENCH_PG_DIR/data" -U postgres -A trust -E UTF8 --no-locale \
    --no-sync --no-instructions >"$BENCH_PG_DIR/initdb.log" 2>&1 || {
    cat "$BENCH_PG_DIR/initdb.log" >&2; return 1; }
  port="$(free_port)"
  "${as[@]}" "$bin/pg_ctl" -D "$BENCH_PG_DIR/data" -l "$BENCH_PG_DIR/postgres.log" -w -t 60 \
    -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$BENCH_PG_DIR" \
    -o "-c synchronous_commit=on -c shared_buffers=1GB -c max_wal_size=8GB" \
    -o "-c checkpoint_timeout=30min -c wal_compression=on -c work_mem=32MB" \
    ${BENCH_PG_STATEMENTS:+-o "-c shared_preload_libraries=pg_stat_statements"} start >/dev/null || {
    cat "$BENCH_PG_DIR/postgres.log" >&2; return 1; }
  BENCH_PG_PID="$(head -1 "$BENCH_PG_DIR/data/postmaster.pid")"
  BENCH_PG_URL="postgresql://postgres@127.0.0.1:$port/bysans"
  "$bin/psql" -qAt -h 127.0.0.1 -p "$port" -U postgres -d postgres -c 'CREATE DATABASE bysans' >&2
  if [[ -n "${BENCH_PG_STATEMENTS:-}" ]]; then
    "$bin/psql" -qAt "$BENCH_PG_URL" -c 'CREATE EXTENSION pg_stat_statements' >&2
  fi
}

# postgres_statements (BENCH_PG_STATEMENTS=1): the 15 statements of start_postgres' server that
# took the most backend time (total ms, calls, rows, WAL MB, the statement's start), on stderr.
postgres_statements() {
  [[ -n "${BENCH_PG_STATEMENTS:-}" && -n "${BENCH_PG_URL:-}" ]] || return 0
  local bin="${BYSANS_PG_BIN:-/usr/lib/postgresql/15/bin}"
  echo "run.sh: statements by backend time (pg_stat_statements):" >&2
  "$bin/psql" -qAt -F ' | ' "$BENCH_PG_URL" -c "SELECT round(total_exec_time) || ' ms', calls, \
    rows, round(wal_bytes / 1e6) || ' MB WAL', left(regexp_replace(query, '\s+', ' ', 'g'), 110) \
    FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 15" >&2 || true
}

# stop_postgres: fast shutdown of start_postgres' server, its folder removed (BENCH_KEEP: kept).
stop_postgres() {
  [[ -n "${BENCH_PG_DIR:-}" ]] || return 0
  postgres_statements
  local bin="${BYSANS_PG_BIN:-/usr/lib/postgresql/15/bin}" as=()
  [[ "$(id -u)" == 0 ]] && as=(runuser -u nobody --)
  "${as[@]}" "$bin/pg_ctl" -D "$BENCH_PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  if [[ -n "${BENCH_KEEP:-}" ]]; then echo "run.sh: kept $BENCH_PG_DIR (BENCH_KEEP)" >&2
  else rm -rf "$BENCH_PG_DIR"; fi
  BENCH_PG_DIR=""
}

# postgres_cpu_ticks: CPU of the PostgreSQL server so far (clock ticks): the postmaster's own and
# its reaped children's (exited backends), plus every live child's.
postgres_cpu_ticks() {
  local total c
  total=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$BENCH_PG_PID/stat")
  for c in $(pgrep -P "$BENCH_PG_PID"); do
    total=$((total + $(awk '{ print $14 + $15 }' "/proc/$c/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
