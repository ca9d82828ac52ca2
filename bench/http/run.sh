#!/usr/bin/env bash
# HTTP ingest benchmark: wrk POSTing a 3-value JSON reading, first against the
# trivial responder (same HttpServer, answers 204 at once: the ceiling), then
# against bysans. Prints one line:
#   BENCH http_ingest bysans_req_per_s=<n> trivial_req_per_s=<n> ratio=<x> p99_ms=<bysans p99> ...
# bysans is taken from, in order: BYSANS_URL + BYSANS_APIKEY (already running),
# or bench/http/start_bysans.sh (prints "URL <url>" and "APIKEY <key>", runs until killed).
# Env: BYSANS_BUILD_DIR (default build/release), BENCH_DURATION (10s),
# BENCH_CONNECTIONS (64), BENCH_THREADS (2).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BUILD_DIR="${BYSANS_BUILD_DIR:-$ROOT/build/release}"
DURATION="${BENCH_DURATION:-10s}"
CONNS="${BENCH_CONNECTIONS:-64}"
WRK_THREADS="${BENCH_THREADS:-2}"
RESPONDER="$BUILD_DIR/bench/http/bench_trivial_responder"

command -v wrk >/dev/null || { echo "run.sh: wrk is not installed" >&2; exit 1; }

if [[ ! -x "$RESPONDER" ]]; then
  if [[ ! -f "$BUILD_DIR/CMakeCache.txt" ]]; then
    cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" -DBYSANS_BUILD_BENCH=ON >&2
  fi
  cmake --build "$BUILD_DIR" --target bench_trivial_responder -j2 >&2
fi

TMP="$(mktemp -d)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$TMP"
}
trap cleanup EXIT

# wait_for_line FILE PREFIX TIMEOUT_S → prints the rest of the first line "PREFIX <value>".
wait_for_line() {
  local file="$1" prefix="$2" timeout="$3" i value
  for ((i = 0; i < timeout * 10; i++)); do
    value="$(sed -n "s/^$prefix //p" "$file" 2>/dev/null | head -n1)"
    if [[ -n "$value" ]]; then echo "$value"; return 0; fi
    sleep 0.1
  done
  return 1
}

# run_wrk LABEL URL [PATH] → sets REQ_PER_S and P99_MS.
run_wrk() {
  local label="$1" url="$2" path="${3:-}" out="$TMP/wrk-$1.txt" stats
  wrk -t"$WRK_THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$HERE/post.lua" "$url" \
    -- "$path" >"$out" 2>&1 || { cat "$out" >&2; return 1; }
  stats="$(grep '^STATS ' "$out" || true)"
  [[ -n "$stats" ]] || { cat "$out" >&2; return 1; }
  REQ_PER_S="$(sed -n 's/.* req_per_s=\([0-9.]*\).*/\1/p' <<<"$stats")"
  REQ_PER_S="$(awk -v v="$REQ_PER_S" 'BEGIN { printf "%d", v }')"
  P99_MS="$(sed -n 's/.* p99_us=\([0-9]*\).*/\1/p' <<<"$stats")"
  P99_MS="$(awk -v v="$P99_MS" 'BEGIN { printf "%.2f", v / 1000 }')"
  local requests bad
  requests="$(sed -n 's/.* requests=\([0-9]*\).*/\1/p' <<<"$stats")"
  bad="$(sed -n 's/.* errors_status=\([0-9]*\).*/\1/p' <<<"$stats")"
  echo "run.sh: $label: $REQ_PER_S req/s, p99 $P99_MS ms, $requests requests, $bad non-2xx" >&2
  if ((bad * 100 > requests)); then
    echo "run.sh: WARNING: $label answered $bad of $requests requests with an error status" >&2
  fi
}

# --- trivial responder --------------------------------------------------------
setsid "$RESPONDER" >"$TMP/responder.out" 2>&1 &
PIDS+=($!)
PORT="$(wait_for_line "$TMP/responder.out" PORT 30)" || {
  cat "$TMP/responder.out" >&2; echo "run.sh: trivial responder did not start" >&2; exit 1; }
run_wrk trivial "http://127.0.0.1:$PORT/api/v1/receive-data"
TRIVIAL_RPS="$REQ_PER_S"
TRIVIAL_P99="$P99_MS"
kill -TERM "${PIDS[0]}" 2>/dev/null || true
wait "${PIDS[0]}" 2>/dev/null || true
PIDS=()

# --- bysans -------------------------------------------------------------------
BYSANS_RPS=0
BYSANS_P99=0
URL="${BYSANS_URL:-}"
KEY="${BYSANS_APIKEY:-}"
if [[ -z "$URL" || -z "$KEY" ]] && [[ -f "$HERE/start_bysans.sh" ]]; then
  setsid bash "$HERE/start_bysans.sh" >"$TMP/bysans.out" 2>"$TMP/bysans.err" &
  PIDS+=($!)
  URL="$(wait_for_line "$TMP/bysans.out" URL 120)" || URL=""
  KEY="$(wait_for_line "$TMP/bysans.out" APIKEY 30)" || KEY=""
  if [[ -z "$URL" || -z "$KEY" ]]; then
    cat "$TMP/bysans.out" "$TMP/bysans.err" >&2
    echo "run.sh: start_bysans.sh did not print URL and APIKEY" >&2
  fi
fi
if [[ -n "$URL" && -n "$KEY" ]]; then
  run_wrk bysans "$URL" "/api/v1/receive-data?apiKey=$KEY"
  BYSANS_RPS="$REQ_PER_S"
  BYSANS_P99="$P99_MS"
else
  echo "run.sh: bysans not measured (set BYSANS_URL and BYSANS_APIKEY, or add" \
    "bench/http/start_bysans.sh); reporting bysans_req_per_s=0" >&2
fi

RATIO="$(awk -v b="$BYSANS_RPS" -v t="$TRIVIAL_RPS" 'BEGIN { printf "%.2f", (t > 0 ? b / t : 0) }')"
echo "BENCH http_ingest bysans_req_per_s=$BYSANS_RPS trivial_req_per_s=$TRIVIAL_RPS" \
  "ratio=$RATIO p99_ms=$BYSANS_P99 trivial_p99_ms=$TRIVIAL_P99"
