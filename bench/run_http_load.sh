#!/usr/bin/env bash
# Starts a fresh `timestore serve` on loopback and runs timestore-http-load against it:
#   bench/run_http_load.sh load      [extra timestore-http-load flags]   # 1,000 keep-alive, 60 s
#   bench/run_http_load.sh slowloris [extra timestore-http-load flags]   # 3,000 half-open, 30 s
# Prints the bench's table and JSON line (last line), with the server's VmHWM/VmRSS.
# Needs build/timestore (or TIMESTORE_BIN=<a copy>, so a rebuild cannot swap it mid-run)
# and build/timestore-http-load. The server gets the default
# settings except a fresh storage root, TIMESTORE_LOG_LEVEL=warn, and, when this
# build has them, TIMESTORE_MAX_CONNECTIONS (above the connections opened here) and
# TIMESTORE_AUTH=none (loopback only). Raise `ulimit -n` first: both sides hold one fd
# per connection. Server environment can be added as usual (TIMESTORE_WAL_SYNC=... ).
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-load}; shift || true
PORT=${PORT:-4393}
BIN=${TIMESTORE_BIN:-./build/timestore}
dir=$(mktemp -d /tmp/timestore-http-load-XXXXXX)
help=$("$BIN" serve --help 2>&1 || true)
extra_env=()
if grep -q -- '--max-connections' <<<"$help"; then extra_env+=(TIMESTORE_MAX_CONNECTIONS=${TIMESTORE_MAX_CONNECTIONS:-15000}); fi
if grep -q -- 'TIMESTORE_AUTH\b' <<<"$help"; then extra_env+=(TIMESTORE_AUTH=${TIMESTORE_AUTH:-none}); fi
env TIMESTORE_LOG_LEVEL=${TIMESTORE_LOG_LEVEL:-warn} "${extra_env[@]}" \
  "$BIN" serve --host 127.0.0.1 --port "$PORT" --storage-root "$dir/data" > "$dir/log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 200); do curl -sf "127.0.0.1:$PORT/ready" > /dev/null && break; sleep 0.05; done
echo "server pid $pid, ulimit -n $(ulimit -n), env: ${extra_env[*]:-(defaults)}, $(git rev-parse --short HEAD)" >&2
status=0
./build/timestore-http-load --mode "$MODE" --port "$PORT" --server-pid "$pid" "$@" || status=$?
if [ "$status" -ne 0 ]; then echo "--- server log (tail)" >&2; tail -20 "$dir/log" >&2; fi
exit "$status"
