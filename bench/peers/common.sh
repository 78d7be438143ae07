# Sourced by the peer scripts: argument parsing, Debian installs, a free loopback port,
# bounded waits, and the cleanup trap that always stops the peer and removes its
# temporary directory. bench/README.md documents the scripts.
# shellcheck shell=bash

PEERS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3   # Debian's python3: python3-xxhash lives there
PEER_PID=""
PEER_TMP=""
PEER_LOG=""
POLICY_RC_CREATED=0

log() { echo "[$PEER] $*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
  cat >&2 <<EOF
usage: bench/peers/$PEER.sh --data FILE [--queries FILE] [--runs R] [--port P]
                            [--digests FILE] [--dump DIR] [--no-compact]
  --data      $PEER_DATA_DESC
  --queries   query instances, JSON lines (timestore-tsbs queries)
  --runs      runs of each query instance (default 1)
  --port      loopback HTTP port (default: a free one)
Environment: CONNECTIONS (2), BATCH_ROWS (10000), SETTLE_TIMEOUT (600 s), START_TIMEOUT
(60 s), KEEP=1 keeps the temporary data directory and the server log.
Prints JSON lines on stdout: one load line, then one line per query type.
EOF
  exit 2
}

parse_args() {
  DATA=""; QUERIES=""; RUNS=1; PORT=""; PASS=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --data) DATA=$2; shift 2 ;;
      --queries) QUERIES=$2; shift 2 ;;
      --runs) RUNS=$2; shift 2 ;;
      --port) PORT=$2; shift 2 ;;
      --digests|--dump) PASS+=("$1" "$2"); shift 2 ;;
      --no-compact) PASS+=("$1"); shift ;;
      -h|--help) usage ;;
      *) log "unknown argument $1"; usage ;;
    esac
  done
  [ -n "$DATA" ] || usage
  [ -f "$DATA" ] || die "no data file $DATA"
  [ -z "$QUERIES" ] || [ -f "$QUERIES" ] || die "no query file $QUERIES"
  DATA=$(realpath "$DATA")
  [ -z "$QUERIES" ] || QUERIES=$(realpath "$QUERIES")
}

# need_packages PKG...: installs the missing ones from Debian. Service start-up by the
# packages' scripts is refused for the duration (policy-rc.d), so nothing listens on the
# packages' default ports.
need_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "missing Debian packages ${missing[*]}: install them as root"
  log "installing ${missing[*]}"
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    POLICY_RC_CREATED=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; then
    apt-get update -q >&2
    apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
  fi
  if [ "$POLICY_RC_CREATED" = 1 ]; then rm -f /usr/sbin/policy-rc.d; POLICY_RC_CREATED=0; fi
}

free_port() {
  $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

make_tmp() {
  PEER_TMP=$(mktemp -d "/tmp/tsbs-$PEER-XXXXXX")
  PEER_LOG="$PEER_TMP/server.log"
}

# start_peer CMD...: runs the server in the background (its own process group).
start_peer() {
  log "starting: $*"
  setsid "$@" >"$PEER_LOG" 2>&1 < /dev/null &
  PEER_PID=$!
}

# wait_ready URL [SECONDS]: polls until URL answers 2xx; fails if the server died.
wait_ready() {
  local url=$1 limit=${2:-${START_TIMEOUT:-60}} t0=$SECONDS
  while [ $((SECONDS - t0)) -lt "$limit" ]; do
    kill -0 "$PEER_PID" 2>/dev/null || { tail -20 "$PEER_LOG" >&2; die "server exited during start-up"; }
    if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then return 0; fi
    sleep 0.3
  done
  tail -20 "$PEER_LOG" >&2
  die "server not ready at $url after ${limit} s"
}

stop_peer() {
  [ -n "$PEER_PID" ] || return 0
  if kill -0 "$PEER_PID" 2>/dev/null; then
    kill -TERM -- "-$PEER_PID" 2>/dev/null || kill -TERM "$PEER_PID" 2>/dev/null || true
    local i
    for i in $(seq 1 100); do   # up to 30 s, then SIGKILL
      kill -0 "$PEER_PID" 2>/dev/null || break
      sleep 0.3
    done
    if kill -0 "$PEER_PID" 2>/dev/null; then
      log "server did not stop in 30 s: SIGKILL"
      kill -KILL -- "-$PEER_PID" 2>/dev/null || kill -KILL "$PEER_PID" 2>/dev/null || true
    fi
  fi
  wait "$PEER_PID" 2>/dev/null || true
  PEER_PID=""
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ "$rc" != 0 ] && [ -n "$PEER_LOG" ] && [ -s "$PEER_LOG" ]; then
    log "server log ($PEER_LOG), last lines:"; tail -15 "$PEER_LOG" >&2
  fi
  stop_peer
  if [ "$POLICY_RC_CREATED" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
  if [ -n "$PEER_TMP" ]; then
    if [ "${KEEP:-0}" = 1 ]; then log "kept $PEER_TMP"; else rm -rf "$PEER_TMP"; fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# run_peer SYSTEM DATA_DIR: load, sizes, compaction, queries (tsbs_peer.py run).
run_peer() {
  local args=(run --system "$1" --port "$PORT" --data "$DATA" --data-dir "$2" --runs "$RUNS")
  [ -z "$QUERIES" ] || args+=(--queries "$QUERIES")
  $PY "$PEERS_DIR/tsbs_peer.py" "${args[@]}" "${PASS[@]}"
}

check_python() {
  need_packages python3 python3-xxhash curl
  $PY -c 'import xxhash; xxhash.xxh3_64_hexdigest(b"")' || die "$PY cannot use python3-xxhash"
}
