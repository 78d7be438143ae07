#!/usr/bin/env bash
# TSBS cpu-only on ClickHouse 18.16 (Debian's clickhouse-server): installs it, starts it
# on a free loopback port with a temporary data directory, loads the CSV over HTTP
# (INSERT … FORMAT CSV, through a Null table and a materialized view that turns the
# nanosecond timestamp into DateTime), measures bytes per value (system.parts) after
# the load and after OPTIMIZE TABLE cpu FINAL, runs the queries in SQL and stops it.
#   bench/peers/clickhouse.sh --data cpu.csv --queries queries.jsonl [--runs R]
# Storage: MergeTree PARTITION BY toYYYYMM(created_at) ORDER BY (hostname, created_at),
# ZSTD for every part (config), tags as String columns. See bench/README.md.
set -euo pipefail
PEER=clickhouse
PEER_DATA_DESC="CSV from timestore-tsbs generate --format csv"
source "$(dirname "$0")/common.sh"
parse_args "$@"
check_python
need_packages clickhouse-server

make_tmp
PORT=${PORT:-$(free_port)}
TCP_PORT=$(free_port)
mkdir -p "$PEER_TMP/data/tmp" "$PEER_TMP/data/user_files" "$PEER_TMP/data/format_schemas"
cat > "$PEER_TMP/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>$PEER_TMP/clickhouse.log</log>
    <errorlog>$PEER_TMP/clickhouse.err.log</errorlog>
    <size>100M</size><count>1</count>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$PORT</http_port>
  <tcp_port>$TCP_PORT</tcp_port>
  <max_connections>64</max_connections>
  <keep_alive_timeout>60</keep_alive_timeout>
  <max_concurrent_queries>16</max_concurrent_queries>
  <uncompressed_cache_size>1073741824</uncompressed_cache_size>
  <mark_cache_size>1073741824</mark_cache_size>
  <path>$PEER_TMP/data/</path>
  <tmp_path>$PEER_TMP/data/tmp/</tmp_path>
  <user_files_path>$PEER_TMP/data/user_files/</user_files_path>
  <format_schema_path>$PEER_TMP/data/format_schemas/</format_schema_path>
  <users_config>$PEER_TMP/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
  <compression>
    <case><min_part_size>0</min_part_size><min_part_size_ratio>0</min_part_size_ratio><method>zstd</method></case>
  </compression>
</yandex>
EOF
cat > "$PEER_TMP/users.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <profiles><default>
    <max_memory_usage>8000000000</max_memory_usage>
    <use_uncompressed_cache>0</use_uncompressed_cache>
    <max_threads>2</max_threads>
  </default></profiles>
  <users><default>
    <password></password>
    <networks><ip>127.0.0.1</ip></networks>
    <profile>default</profile><quota>default</quota>
  </default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time>
  </interval></default></quotas>
</yandex>
EOF
start_peer clickhouse-server --config-file="$PEER_TMP/config.xml"
wait_ready "http://127.0.0.1:$PORT/ping"
log "$(curl -fsS "http://127.0.0.1:$PORT/" --data-binary 'SELECT version()') on 127.0.0.1:$PORT"
run_peer clickhouse "$PEER_TMP/data"
