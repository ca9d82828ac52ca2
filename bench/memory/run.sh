#!/usr/bin/env bash
# Resident memory of an idle bysans with the demo loaded (its simulator posting).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
dir=$(mktemp -d /tmp/bysans-bench-mem-XXXXXX)
trap 'stop_bysans; rm -rf "$dir"' EXIT
start_bysans "$dir" --demo
sleep "${BENCH_MEMORY_SETTLE_S:-15}"
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$BYSANS_PID/status")
echo "BENCH memory idle_rss_mb=$(awk -v k="$rss_kb" 'BEGIN {printf "%.1f", k/1024}')"
