#!/bin/bash
# Installs what is missing, builds, and runs the daemon. With no arguments
# sipline runs its embedded default configuration (two simulated phones, SIP on
# 127.0.0.1:5060); otherwise the arguments go to sipline (e.g. --config FILE).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
build_dir=${BUILD_DIR:-$root/build}
if [[ "${SANITIZE:-0}" == "1" ]]; then
  build_dir=${BUILD_DIR:-$root/build-asan}
fi
exec "$build_dir/gateway/sipline" "$@"
