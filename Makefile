# pickupbox — the two commands: `make run` and `make test` (see README).
SHELL := /bin/bash
.DEFAULT_GOAL := help

DEB_PACKAGES := libpq-dev libcurl4-openssl-dev libssl-dev libargon2-dev libqrencode-dev zlib1g-dev postgresql python3-pip \
                chromium chromium-driver zbar-tools nginx
PY_PACKAGES  := openapi-spec-validator schemathesis selenium axe-selenium-python pytest pytest-xdist
SWIFT        ?= swift

.PHONY: help deps build run test bench fuzz clean

help:
	@echo "make run    install missing Debian packages, build, start PostgreSQL (embedded unless DATABASE_URL), migrate, serve on :8080"
	@echo "make test   the same set-up, then every test against a real PostgreSQL"
	@echo "make fuzz   libFuzzer on the HTTP parser, JSON decoder, CSV import and Domain parsers (FUZZ_SECONDS per target, default 60)"
	@echo "make bench  release build + wrk and the project's own load tools on loopback (writes bench/results/)"

## Installs what is missing: Debian packages (checked with dpkg -s first), then the Python validator for the contract test.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@(python3 -c "import openapi_spec_validator, selenium, axe_selenium_python, pytest, xdist" 2>/dev/null && command -v schemathesis >/dev/null) || python3 -m pip install -q $(PY_PACKAGES) || python3 -m pip install -q --break-system-packages $(PY_PACKAGES)
	@# axe-core 4 for the browser tests: the package's axe.min.js only (not playwright).
	@python3 -c "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec('axe_playwright_python') else 1)" || python3 -m pip install -q --no-deps axe-playwright-python || python3 -m pip install -q --no-deps --break-system-packages axe-playwright-python
	@command -v $(SWIFT) >/dev/null || { echo "Swift 6 toolchain not found: install it from swift.org (see README)"; exit 1; }

build: deps
	$(SWIFT) build -c release --product pickupbox

run: build
	./.build/release/pickupbox serve --demo

test: deps
	$(SWIFT) build --build-tests
	@# The image's binary (static Swift runtime): DockerfileTests read its ldd against the Dockerfile.
	$(SWIFT) build -c release --product pickupbox --static-swift-stdlib
	$(SWIFT) test --skip-build
	@# Exit tests alone: Swift Testing's child-process monitor must not meet the tests that start processes.
	PICKUPBOX_EXIT_TESTS=1 $(SWIFT) test --skip-build --filter closeDescriptor_trapsOnABadDescriptor
	@# The fault suite (docs/ARCHITECTURE.md#faults): real processes, faults injected, ~3 minutes; thousands of sockets.
	ulimit -n 20000 2>/dev/null || true; PICKUPBOX_FAULTS=1 $(SWIFT) test --skip-build --filter FaultTests
	@# A short run of every fuzz target (docs/ARCHITECTURE.md#faults); `make fuzz` runs them longer.
	FUZZ_SECONDS=10 Tests/Fuzz/run.sh
	Tests/web/run.sh
	SCHEMATHESIS_MAX_TIME=90 Tests/contract/schemathesis.sh

bench: deps
	bench/run.sh

## libFuzzer targets (HTTP parser, JSON, CSV, Domain parsers): FUZZ_SECONDS per target, default 60.
fuzz:
	Tests/Fuzz/run.sh

clean:
	rm -rf .build
