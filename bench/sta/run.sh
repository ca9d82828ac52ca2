#!/usr/bin/env bash
# SensorThings benchmark (issue 17). Prints one line:
#   BENCH sta day_ms= year_dataarray_ms= latest_1000_ms= create_obs_per_s=
# over the store benchmark's data set, written by bench_sta_seed into a fresh data directory:
# 10,000 Things with six Datastreams each at 10-minute readings (20 million), and one Thing
# with a year of 10-minute readings. bysans then serves it; measure.py times (median of
# BENCH_REPEAT runs, a warm-up first) over one keep-alive connection:
#   day_ms            one Datastream's Observations of one day, ordered by time, $top=1000
#   year_dataarray_ms the year-long Datastream's 52,560 Observations as dataArray (every page,
#                     following @iot.nextLink if the server pages it)
#   latest_1000_ms    Things?$top=1000&$expand=Datastreams($expand=Observations($top=1;
#                     $orderby=phenomenonTime desc))
#   create_obs_per_s  POST /CreateObservations of 10,000 observations (dataArray), stored
#                     ("n/a" while the server does not implement it)
# Env: BYSANS_BUILD_DIR, BENCH_READINGS (20000000), BENCH_REPEAT (9).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
export BYSANS_BUILD_DIR="${BYSANS_BUILD_DIR:-$ROOT/build/release}"
source "$HERE/../lib.sh"
SEED="$BYSANS_BUILD_DIR/bench/sta/bench_sta_seed"
if [[ ! -x "$SEED" || ! -x "$BYSANS_BIN" ]]; then
  cmake --build "$BYSANS_BUILD_DIR" --target bysans bench_sta_seed -j2 >&2
fi
TMP="$(mktemp -d /tmp/bysans-bench-sta-XXXXXX)"
cleanup() {
  stop_bysans || true
  rm -rf "$TMP"
}
trap cleanup EXIT
mkdir -p "$TMP/data"
YEAR_THING=$("$SEED" "$TMP/data" "${BENCH_READINGS:-20000000}")
start_bysans "$TMP/data"
python3 "$HERE/measure.py" "$BYSANS_URL" "$BENCH_ADMIN_EMAIL" "$BENCH_ADMIN_PASSWORD" \
  "$YEAR_THING" "${BENCH_REPEAT:-9}" "${BENCH_READINGS:-20000000}"
