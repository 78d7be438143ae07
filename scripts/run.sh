#!/usr/bin/env bash
# Builds the server if needed and starts it on the embedded defaults:
# 127.0.0.1:4100, storage under ./data, no S3, and SQL over the PostgreSQL
# wire protocol on 127.0.0.1:5432 (TIMESTORE_PG_PORT=0 turns it off). Clients
# need an API token: the first start writes an admin token to
# ./data/auth/admin.token (docs/security.md). TIMESTORE_* variables and
# `timestore serve` flags (passed through) override the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh timestore
export TIMESTORE_PG_PORT="${TIMESTORE_PG_PORT:-5432}"
exec ./build/timestore serve "$@"
