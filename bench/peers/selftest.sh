#!/usr/bin/env bash
# Checks the peer scripts end to end without timestore-tsbs: small hand-made data
# (make_test_data.py: 10 hosts x 13 h, integer values, then full-precision floats),
# every TSBS query type plus bucket-edge cases, loaded into each peer; every peer's
# checksums must equal the Python reference's (tsbs_peer.py reference) for every type.
#   bench/peers/selftest.sh [clickhouse,victoriametrics,influxdb,duckdb]
# Installs the peers from Debian (root; DuckDB from npm, tests/node). Exit 1 on any
# disagreement. Not part of the default test run (it starts three servers; about two
# minutes).
set -euo pipefail
cd "$(dirname "$0")"
SYSTEMS=${1:-clickhouse,victoriametrics,influxdb,duckdb}
PY=/usr/bin/python3
work=$(mktemp -d /tmp/tsbs-peers-selftest-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail=0
for variant in int float; do
  dir="$work/$variant"
  extra=(); [ "$variant" = float ] && extra=(--float)
  $PY make_test_data.py --out-dir "$dir" --seed 3 --count 3 "${extra[@]}" >&2
  $PY tsbs_peer.py reference --data "$dir/cpu.csv" --queries "$dir/queries.jsonl" > "$dir/reference.jsonl"
  outs=("$dir/reference.jsonl")
  for s in ${SYSTEMS//,/ }; do
    case "$s" in
      clickhouse|duckdb) data="$dir/cpu.csv" ;;
      victoriametrics|influxdb) data="$dir/cpu.influx" ;;
      *) echo "unknown system $s" >&2; exit 2 ;;
    esac
    echo "== $variant: $s" >&2
    ./"$s.sh" --data "$data" --queries "$dir/queries.jsonl" --runs 2 > "$dir/$s.jsonl"
    outs+=("$dir/$s.jsonl")
  done
  echo "== $variant: checksums" >&2
  $PY tsbs_peer.py compare "${outs[@]}" || fail=1
done
if [ "$fail" = 0 ]; then echo "peer self-test: every checksum agrees"; else echo "peer self-test: checksums differ"; fi
exit "$fail"
