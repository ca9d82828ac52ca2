#!/usr/bin/env bash
# UI benchmark: starts the real bysans with the demo and the built web UI,
# then runs web/bench/ui-bench.mjs (playwright-core + Debian's chromium).
# Prints one line:
#   BENCH ui first_load_kb=<n> first_load_ms=<n> list_10k_render_ms=<n> list_10k_filter_ms=<n> compare_1000_ms=<n> dashboard_8x7d_ms=<n>
# Needs web/dist (make web) and web/node_modules (npm ci).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# shellcheck source=../lib.sh
source bench/lib.sh

[ -f web/dist/index.html ] || { echo "bench ui: web/dist is not built (make web)" >&2; exit 1; }
[ -x "$BYSANS_BIN" ] || { echo "bench ui: no bysans binary at $BYSANS_BIN" >&2; exit 1; }

DATA="$(mktemp -d "${TMPDIR:-/tmp}/bysans-bench-ui.XXXXXX")"
trap 'stop_bysans; rm -rf "$DATA"' EXIT
export BYSANS_WEB_DIR="$ROOT/web/dist" BYSANS_AUTH_LOGIN_ATTEMPTS_PER_MINUTE=10000
start_bysans "$DATA" --demo
# Wait until the demo organisation exists (seeded just after the server listens).
jar="$DATA/cookies"
curl -fsS -c "$jar" -H 'Content-Type: application/json' \
  -d "{\"email\":\"$BENCH_ADMIN_EMAIL\",\"password\":\"$BENCH_ADMIN_PASSWORD\"}" \
  "$BYSANS_URL/api/v1/auth/login" >/dev/null
for _ in $(seq 1 300); do
  curl -fsS -b "$jar" "$BYSANS_URL/api/v1/organizations" | grep -q '"id"' && break
  sleep 0.1
done

BYSANS_URL="$BYSANS_URL" BYSANS_ADMIN_EMAIL="$BENCH_ADMIN_EMAIL" \
  BYSANS_ADMIN_PASSWORD="$BENCH_ADMIN_PASSWORD" node web/bench/ui-bench.mjs
