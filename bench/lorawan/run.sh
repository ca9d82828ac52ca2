#!/usr/bin/env bash
# LoRaWAN ingest benchmark (bench/lorawan/README.md). Prints one line:
#   BENCH lorawan_ingest raw_msgs_per_s= stored_msgs_per_s= ratio= acked_missing=
#         cpu_us_per_msg= p99_ms= ...
# bench/mqtt's method and tools in their LoRaWAN mode: ChirpStack v4 uplinks for
# BENCH_DEVICES (1000) devices through the supervised broker, decoded by the shipped decoders,
# quality-checked, stored, with BENCH_RULES (1000) threshold rules; raw Mosquitto pass-through
# of the same events in the same run. Other settings as in bench/mqtt/run.sh.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BENCH_LORAWAN=1 exec bash "$HERE/../mqtt/run.sh"
