#!/usr/bin/env bash
# The browser tests (part of `make test`): headless Chromium through selenium against a live
# `pickupbox serve` on its own embedded PostgreSQL, with a loopback SMS gateway the tests start.
# Screenshots of every page land in .pickupbox/screenshots/.
# The browser mostly waits (for the page, the server, axe): WEB_WORKERS pytest-xdist workers (default
# 2, 0 runs in this process) take whole files each, so a file's server and browser stay one worker's.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PICKUPBOX_BIN=${PICKUPBOX_BIN:-$PWD/.build/debug/pickupbox}
python3 -c "import selenium, axe_selenium_python, pytest, xdist" 2>/dev/null || { echo "selenium, axe-selenium-python, pytest or pytest-xdist is missing: make test installs them"; exit 1; }
command -v chromedriver >/dev/null || { echo "chromedriver is missing: make test installs chromium-driver"; exit 1; }
command -v zbarimg >/dev/null || { echo "zbarimg is missing: make test installs zbar-tools"; exit 1; }
workers=${WEB_WORKERS:-2}
parallel=()
[ "$workers" = 0 ] || parallel=(-n "$workers" --dist loadfile)
exec python3 -m pytest -p no:cacheprovider -q --tb=short "${parallel[@]}" "${@:-Tests/web}"
