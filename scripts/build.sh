#!/bin/bash
# Configures (Ninja, RelWithDebInfo) and builds sipline. Incremental: the
# configure step only runs when the build directory has no build.ninja yet
# (Ninja re-runs CMake by itself when a CMakeLists.txt changes).
#   SANITIZE=1      build with ASan+UBSan into build-asan/ (-DSIPLINE_SANITIZE=ON)
#   BUILD_DIR=path  override the build directory
#   extra arguments are passed to `cmake --build` (e.g. --target sipline)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cmake_args=(-G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo)
if [[ "${SANITIZE:-0}" == "1" ]]; then
  build_dir=${BUILD_DIR:-$root/build-asan}
  cmake_args+=(-DSIPLINE_SANITIZE=ON)
else
  build_dir=${BUILD_DIR:-$root/build}
fi

if [[ ! -f "$build_dir/build.ninja" ]]; then
  cmake -S "$root" -B "$build_dir" "${cmake_args[@]}"
fi
cmake --build "$build_dir" "$@"
