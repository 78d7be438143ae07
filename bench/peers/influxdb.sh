#!/usr/bin/env bash
# TSBS cpu-only on InfluxDB 1.6 (Debian's influxdb): installs it, writes a config that
# binds HTTP and the RPC service to 127.0.0.1 on free ports with a temporary data
# directory, loads the influx line protocol file on /write (database "benchmark"),
# measures the database's data + WAL directories after the load and after the full
# compaction (cold timers shortened to 5 s / 10 s so it happens within seconds), runs
# the queries in InfluxQL and stops it.
#   bench/peers/influxdb.sh --data cpu.influx --queries queries.jsonl [--runs R]
# See bench/README.md.
set -euo pipefail
PEER=influxdb
PEER_DATA_DESC="influx line protocol from timestore-tsbs generate --format influx"
source "$(dirname "$0")/common.sh"
parse_args "$@"
check_python
need_packages influxdb

make_tmp
PORT=${PORT:-$(free_port)}
RPC_PORT=$(free_port)
cat > "$PEER_TMP/influxdb.conf" <<EOF
reporting-disabled = true
bind-address = "127.0.0.1:$RPC_PORT"

[meta]
  dir = "$PEER_TMP/meta"
  logging-enabled = false

[data]
  dir = "$PEER_TMP/data"
  wal-dir = "$PEER_TMP/wal"
  index-version = "inmem"
  query-log-enabled = false
  cache-snapshot-write-cold-duration = "5s"
  compact-full-write-cold-duration = "10s"
  max-series-per-database = 0
  max-values-per-tag = 0

[coordinator]
  query-timeout = "0s"

[retention]
  enabled = false

[shard-precreation]
  enabled = false

[monitor]
  store-enabled = false

[subscriber]
  enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:$PORT"
  log-enabled = false
  pprof-enabled = false
  max-body-size = 0
  max-row-limit = 0

[logging]
  level = "warn"
  suppress-logo = true

[continuous_queries]
  enabled = false
EOF
start_peer influxd run -config "$PEER_TMP/influxdb.conf"
wait_ready "http://127.0.0.1:$PORT/ping"
log "influxd $(influxd version 2>/dev/null | head -1) on 127.0.0.1:$PORT"
# data-dir = the temporary root: sizes are taken of data/benchmark and wal/benchmark.
run_peer influxdb "$PEER_TMP"
