#!/usr/bin/env bash
# Export/import benchmark (issue 18). Prints one line:
#   BENCH export export_readings_per_s= import_readings_per_s= bytes_per_reading=
# over the store benchmark's data set, written by bench_sta_seed (bench/sta) into a fresh data
# directory: 10,000 devices with six keys at 10-minute readings (20 million), plus one device with
# a year of 10-minute readings. Then, timed by wall clock with the real CLI:
#   export  `bysans export --org 1` (the database copied in one read transaction, opened, every
#           reading and the metadata written to the archive)
#   import  `bysans import` of that archive into a second, fresh data directory (every checksum
#           and record checked, then written through the store's bulk path and closed)
# Env: BYSANS_BUILD_DIR, BENCH_READINGS (20000000).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
export BYSANS_BUILD_DIR="${BYSANS_BUILD_DIR:-$ROOT/build/release}"
source "$HERE/../lib.sh"
SEED="$BYSANS_BUILD_DIR/bench/sta/bench_sta_seed"
if [[ ! -x "$SEED" || ! -x "$BYSANS_BIN" ]]; then
  cmake --build "$BYSANS_BUILD_DIR" --target bysans bench_sta_seed -j2 >&2
fi
TMP="$(mktemp -d /tmp/bysans-bench-export-XXXXXX)"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/data" "$TMP/data2"
"$SEED" "$TMP/data" "${BENCH_READINGS:-20000000}" >/dev/null
now() { date +%s.%N; }
t0=$(now)
out=$("$BYSANS_BIN" export --org 1 --out "$TMP/org.tar" --data-dir "$TMP/data" 2>/dev/null)
t1=$(now)
"$BYSANS_BIN" import --in "$TMP/org.tar" --data-dir "$TMP/data2" >/dev/null 2>&1
t2=$(now)
readings=$(sed -n 's/.* \([0-9]*\) readings.*/\1/p' <<<"$out")
bytes=$(stat -c %s "$TMP/org.tar")
echo "export: $out ($(awk "BEGIN{printf \"%.1f\", $t1-$t0}") s), import $(awk "BEGIN{printf \"%.1f\", $t2-$t1}") s" >&2
awk -v r="$readings" -v b="$bytes" -v e="$(awk "BEGIN{print $t1-$t0}")" \
  -v i="$(awk "BEGIN{print $t2-$t1}")" \
  'BEGIN{printf "BENCH export export_readings_per_s=%.0f import_readings_per_s=%.0f bytes_per_reading=%.2f\n", r/e, r/i, b/r}'
