#!/usr/bin/env bash
# Builds everything and runs the default test suite (unit, end-to-end, crash
# tests). Long soak/fuzz runs carry the ctest label "slow" and are excluded;
# run them with: ctest --test-dir build -L slow
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j2 -LE slow "$@"
