#!/usr/bin/env bash
# Configures and builds Timestore into ./build (Release with debug info), after
# installing the Debian packages it needs. Extra arguments go to ninja (targets).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-2}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo ${CMAKE_ARGS:-}
fi
ninja -C "$BUILD_DIR" -j"$JOBS" "$@"
