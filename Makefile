# bysans — thin wrappers over scripts/ and CMake presets.
#   make run     install what is missing, build the server and the UI, start bysans with the demo
#   make test    install, build, run every test
#   make bench   run the benchmarks (make bench BENCH=store for one)
PRESET ?= release
BUILD_DIR := build/$(PRESET)
BIN := $(BUILD_DIR)/bin/bysans
DATA_DIR ?= data
JOBS ?= $(shell nproc)
# Node.js fetched by scripts/install-deps when the machine's is older than 20.
export PATH := $(CURDIR)/.cache/node/bin:$(PATH)

.PHONY: all deps configure build server web run test test-asan fuzz tidy bench format clean

all: build

deps:
	@scripts/install-deps

configure: deps
	@cmake --preset $(PRESET) >/dev/null

build: configure
	@cmake --build --preset $(PRESET) -j $(JOBS)

# Only what `make run` starts: the server binary (not the tests and benchmarks).
server: configure
	@cmake --build --preset $(PRESET) -j $(JOBS) --target bysans

web: deps
	@if [ -f web/package.json ]; then cd web && npm run --silent build; fi

run: server web
	@mkdir -p $(DATA_DIR)
	@echo "Starting bysans with the demo (Ctrl-C to stop)…"
	@$(BIN) serve --data-dir $(DATA_DIR) --demo

test: build web
	@scripts/check-format
	@ctest --preset $(PRESET) -j $(JOBS) --timeout 600

# ASan + UBSan over every unit, integration and security test (no benchmarks, no browser).
test-asan: deps
	@JOBS=$(JOBS) scripts/asan-leg

# libFuzzer targets under ASan + UBSan (clang), FUZZ_SECONDS each (scripts/fuzz).
FUZZ_SECONDS ?= 600
FUZZERS := api_json_fuzzer archive_fuzzer chirpstack_fuzzer decode_fuzz ingest_fuzzer lwm2m_fuzzer \
  mqtt_fuzzer ngsild_fuzzer opendata_cursor_fuzzer rules_expr_fuzzer senml_cbor_fuzzer sta_query_fuzzer
fuzz:
	@BYSANS_FUZZ=1 scripts/install-deps
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz -j $(JOBS) --target $(FUZZERS)
	@scripts/fuzz $(FUZZ_SECONDS) $(FUZZERS)

tidy: build
	@scripts/tidy $(BUILD_DIR)

bench: build web
	@bench/run $(BENCH)

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	@rm -rf build
