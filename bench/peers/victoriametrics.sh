#!/usr/bin/env bash
# TSBS cpu-only on VictoriaMetrics 1.79 (Debian's victoria-metrics, single node):
# installs it, starts it on a free loopback port with a temporary data directory, loads
# the influx line protocol file on /write (metrics cpu_usage_user … with the ten tags
# as labels), waits until every value is stored, measures the data directory after the
# load and after /internal/force_merge, runs the queries in MetricsQL
# (/api/v1/query_range and /api/v1/query) and stops it.
#   bench/peers/victoriametrics.sh --data cpu.influx --queries queries.jsonl [--runs R]
# Flags: -retentionPeriod=100y (the default 1 month would silently drop 2016 data),
# -search.disableCache (repeated queries read the data again). See bench/README.md.
set -euo pipefail
PEER=victoriametrics
PEER_DATA_DESC="influx line protocol from timestore-tsbs generate --format influx"
source "$(dirname "$0")/common.sh"
parse_args "$@"
check_python
need_packages victoria-metrics

make_tmp
PORT=${PORT:-$(free_port)}
mkdir -p "$PEER_TMP/data"
start_peer victoria-metrics \
  -storageDataPath="$PEER_TMP/data" \
  -httpListenAddr="127.0.0.1:$PORT" \
  -retentionPeriod=100y \
  -search.disableCache \
  -search.maxQueryDuration=600s \
  -loggerLevel=WARN
wait_ready "http://127.0.0.1:$PORT/health"
log "victoria-metrics on 127.0.0.1:$PORT"
run_peer victoriametrics "$PEER_TMP/data"
