#!/usr/bin/env bash
# Contract for bench/http/run.sh: starts bysans with a fresh data directory,
# prints `URL <url>` and `APIKEY <key>`, and keeps running until killed.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
dir=$(mktemp -d /tmp/bysans-bench-http-XXXXXX)
trap 'stop_bysans; rm -rf "$dir"' EXIT
trap 'exit 0' TERM INT
start_bysans "$dir"
echo "URL $BYSANS_URL"
echo "APIKEY $(create_http_device)"
wait "$BYSANS_PID"
