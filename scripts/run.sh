#!/usr/bin/env bash
# Builds the server if needed and starts it on the embedded defaults:
# 127.0.0.1:4100, storage under ./data, no S3. TIMESTORE_* variables and
# `timestore serve` flags (passed through) override the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh timestore
exec ./build/timestore serve "$@"
