#!/bin/bash
# Installs what is missing, builds, and runs every test registered with CTest.
# Unit tests run two at a time; component and end-to-end tests (which start the
# daemon and real peers and measure audio in real time) run one at a time so
# that a loaded machine does not turn timing into flakiness. Every such test
# also picks its own ports and temp dir, so they would not collide anyway.
# Extra arguments are passed to both ctest runs (e.g. -R Dial).
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh" || exit 1
"$root/scripts/build.sh" || exit 1
build_dir=${BUILD_DIR:-$root/build}
if [[ "${SANITIZE:-0}" == "1" ]]; then
  build_dir=${BUILD_DIR:-$root/build-asan}
fi

status=0
ctest --test-dir "$build_dir" --output-on-failure -j2 -LE '^(component|e2e)$' "$@" || status=1
ctest --test-dir "$build_dir" --output-on-failure -L '^(component|e2e)$' "$@" || status=1
exit $status
