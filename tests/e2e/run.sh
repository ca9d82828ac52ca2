#!/usr/bin/env bash
# Browser tests of the web UI against the REAL bysans with the demo data.
#   1. starts $BYSANS_BIN (default build/release/bin/bysans) on a free port with a
#      fresh data dir, --demo, and the built UI (web/dist; `make web` builds it),
#   2. creates a viewer user with a membership in "Demo Kommune" through the API,
#   3. runs `node --test tests/e2e/` (playwright-core + Debian's chromium),
#   4. stops the server; exits non-zero when a test fails.
# Exits 77 (CTest SKIP_RETURN_CODE) only when web/dist is not built.
# Screenshots go to artifacts/e2e/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BIN="${BYSANS_BIN:-$ROOT/build/release/bin/bysans}"

if [ ! -f web/dist/index.html ]; then
  echo "e2e: SKIPPED — web/dist is not built (run 'make web' or 'cd web && npm ci && npm run build')"
  exit 77
fi
if [ ! -x "$BIN" ]; then
  echo "e2e: bysans binary not found at $BIN (set BYSANS_BIN)" >&2
  exit 1
fi
for mod in playwright-core axe-core; do
  if [ ! -d "web/node_modules/$mod" ]; then
    echo "e2e: web/node_modules/$mod is missing (run 'cd web && npm ci')" >&2
    exit 1
  fi
done
CHROMIUM="${CHROMIUM:-$(command -v chromium || true)}"
if [ -z "$CHROMIUM" ]; then
  echo "e2e: chromium is not installed (scripts/install-deps installs it)" >&2
  exit 1
fi
export CHROMIUM

export BYSANS_ADMIN_EMAIL="${BYSANS_ADMIN_EMAIL:-e2e-admin@bysans.local}"
export BYSANS_ADMIN_PASSWORD="${BYSANS_ADMIN_PASSWORD:-e2e-admin-password-1}"
export BYSANS_VIEWER_EMAIL="${BYSANS_VIEWER_EMAIL:-e2e-viewer@bysans.local}"
export BYSANS_VIEWER_PASSWORD="${BYSANS_VIEWER_PASSWORD:-e2e-viewer-password-1}"

DATA="$(mktemp -d "${TMPDIR:-/tmp}/bysans-e2e.XXXXXX")"
JAR="$DATA/cookies"
PID=""
GEO_PID=""
cleanup() {
  if [ -n "$PID" ]; then
    kill -TERM "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
  fi
  [ -n "$GEO_PID" ] && kill -TERM "$GEO_PID" 2>/dev/null
  rm -rf "$DATA"
}
trap cleanup EXIT

# The address search's geocoder: a stand-in for DAWA on loopback (no internet here).
node "$ROOT/tests/e2e/geocoder.mjs" "$DATA/geocoder.port" &
GEO_PID=$!
for _ in $(seq 1 100); do [ -s "$DATA/geocoder.port" ] && break; sleep 0.1; done
[ -s "$DATA/geocoder.port" ] || { echo "e2e: the geocoder did not start" >&2; exit 1; }
export BYSANS_WEB_GEOCODER_URL="http://127.0.0.1:$(cat "$DATA/geocoder.port")/adgangsadresser?struktur=mini&q={q}"

# The tests sign in about a dozen times within a minute: lift the login limit. The data
# targets test posts to a receiver it runs on loopback, which the outbound policy must admit.
# CoAP on free ports: the device page's CoAP panel shows them (coap_ui.test.mjs).
BYSANS_AUTH_LOGIN_ATTEMPTS_PER_MINUTE=10000 BYSANS_WEB_DIR="$ROOT/web/dist" \
  BYSANS_OUTBOUND_ALLOW=127.0.0.1/32 \
  BYSANS_COAP_ENABLED=true BYSANS_COAP_UDP_PORT=0 BYSANS_COAP_DTLS_PORT=0 \
  BYSANS_LOG_LEVEL=warn "$BIN" serve --data-dir "$DATA" --http-port 0 --mqtt-port 0 --demo \
  >"$DATA/server.log" 2>&1 &
PID=$!

URL=""
for _ in $(seq 1 600); do
  if [ -s "$DATA/http.url" ]; then
    URL="$(head -1 "$DATA/http.url")"
    curl -fsS "$URL/healthz" >/dev/null 2>&1 && break
    URL=""
  fi
  kill -0 "$PID" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$URL" ]; then
  echo "e2e: bysans did not start; its log:" >&2
  cat "$DATA/server.log" >&2
  exit 1
fi
echo "e2e: bysans at $URL"

api() {  # api METHOD PATH [JSON]
  curl -fsS -b "$JAR" -c "$JAR" -X "$1" -H 'Content-Type: application/json' \
    ${3:+-d "$3"} "$URL$2"
}
json_field() {  # first number/string value of a field, from JSON on stdin
  node -e 'let s="";process.stdin.on("data",(c)=>s+=c).on("end",()=>{
    const f=(o)=>{if(o&&typeof o==="object"){if(process.argv[1] in o)return o[process.argv[1]];
    for(const v of Object.values(o)){const r=f(v);if(r!==undefined)return r;}}};
    process.stdout.write(String(f(JSON.parse(s))??""));});' "$1"
}

api POST /api/v1/auth/login \
  "{\"email\":\"$BYSANS_ADMIN_EMAIL\",\"password\":\"$BYSANS_ADMIN_PASSWORD\"}" >/dev/null
# The demo seeds its organisation just after the server starts listening.
ORG=""
for _ in $(seq 1 300); do
  ORG="$(api GET /api/v1/organizations | json_field id)"
  [ -n "$ORG" ] && break
  sleep 0.1
done
[ -n "$ORG" ] || { echo "e2e: the demo organisation did not appear" >&2; exit 1; }
VIEWER_ID="$(api POST /api/v1/users "{\"email\":\"$BYSANS_VIEWER_EMAIL\",\"password\":\"$BYSANS_VIEWER_PASSWORD\",\"name\":\"Vera Viewer\"}" | json_field id)"
api PUT "/api/v1/organizations/$ORG/members/$VIEWER_ID" '{"role":"viewer"}' >/dev/null
# Wait until the simulator's first readings are committed (the device chart needs points).
for _ in $(seq 1 600); do
  n="$(api GET "/api/v1/organizations/$ORG/devices?limit=1" | json_field total)"
  if [ -n "$n" ] && [ "$n" -gt 0 ]; then
    DEV="$(api GET "/api/v1/organizations/$ORG/devices?limit=1" | json_field id)"
    api GET "/api/v1/devices/$DEV/latest" | grep -q '"ts"' && break
  fi
  sleep 0.2
done

export BYSANS_URL="$URL"
status=0
# E2E_TESTS narrows the run to some files (development), e.g. tests/e2e/features.test.mjs.
# shellcheck disable=SC2086
node --test --test-concurrency=1 ${E2E_TESTS:-tests/e2e/} || status=$?
if [ $status -ne 0 ]; then
  echo "e2e: FAILED (screenshots in artifacts/e2e/); server log tail:" >&2
  tail -n 40 "$DATA/server.log" >&2
fi
exit $status
