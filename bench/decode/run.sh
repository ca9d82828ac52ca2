#!/usr/bin/env bash
# Decode benchmark (one core): prints
#   BENCH decode uplink_per_s=<n> os2iot_per_s=<n> p99_us=<x> first_call_ms=<x> kb_per_decoder=<x>
# Env: BYSANS_BUILD_DIR (default build/release), BENCH_DECODES (200000 per contract).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
# shellcheck source=../lib.sh
source "$HERE/../lib.sh"
BIN="$(bench_tool decode)"
# One core: pin to CPU 0 when taskset is available.
if command -v taskset >/dev/null; then
  exec taskset -c 0 "$BIN" "$ROOT" "${BENCH_DECODES:-200000}"
fi
exec "$BIN" "$ROOT" "${BENCH_DECODES:-200000}"
