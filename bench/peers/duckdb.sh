#!/usr/bin/env bash
# TSBS cpu-only on DuckDB, embedded: npm @duckdb/node-api (tests/node/package.json,
# installed by scripts/install-deps.sh; npm ci here when missing) in a Node.js child
# process of tsbs_peer.py (bench/peers/duckdb_peer.mjs). Loads the CSV with read_csv
# into a database file in a temporary directory (CREATE TABLE cpu AS SELECT … ORDER BY
# hostname, ts), measures bytes per value (the file) right after the load and after
# CHECKPOINT, runs the queries in SQL, each timed in-process (no network round trip),
# with SET threads = 2 (DUCKDB_THREADS).
#   bench/peers/duckdb.sh --data cpu.csv --queries queries.jsonl [--runs R]
# Same options and output as the other peers (--port is accepted and ignored: nothing
# listens). See bench/README.md.
set -euo pipefail
PEER=duckdb
PEER_DATA_DESC="CSV from timestore-tsbs generate --format csv"
source "$(dirname "$0")/common.sh"
parse_args "$@"
check_python

NODE_DIR=$(cd "$PEERS_DIR/../../tests/node" && pwd)
command -v node >/dev/null 2>&1 || die "node not found: run scripts/install-deps.sh"
if [ ! -f "$NODE_DIR/node_modules/@duckdb/node-api/package.json" ]; then
  log "installing the npm packages of $NODE_DIR (npm ci, as scripts/install-deps.sh does)"
  (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
export TSBS_NODE_DIR="$NODE_DIR"
log "DuckDB $(node "$PEERS_DIR/duckdb_peer.mjs" --version), threads ${DUCKDB_THREADS:-2}, in-process"

make_tmp
PORT=0   # embedded: tsbs_peer.py ignores the port
run_peer duckdb "$PEER_TMP/data"
