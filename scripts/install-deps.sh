#!/usr/bin/env bash
# Installs the Debian 12 packages Timestore needs to build, test and run (tzdata: the
# IANA zones of downsample timezones; libpg-query-dev: PostgreSQL's SQL grammar;
# postgresql-client-15, python3-psycopg2, libpqxx-dev: the SQL clients the tests drive;
# openssl, curl: the TLS tests make certificates and connect with them;
# libyaml-cpp-dev: migration manifests).
# Idempotent: packages already present are skipped by apt. Needs root or sudo.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config clang clang-format git
  libabsl-dev libsimdjson-dev libboost-dev libboost-system-dev
  liburing-dev liblz4-dev libzstd-dev libxxhash-dev zlib1g-dev
  libflatbuffers-dev flatbuffers-compiler libcurl4-openssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev libspdlog-dev libfmt-dev
  python3 curl openssl
  python3-xxhash gnuplot-nox
  libssl-dev libexpat1-dev
  awscli python3-botocore
  libprotobuf-dev protobuf-compiler libsnappy-dev libre2-dev
  prometheus influxdb-client python3-influxdb tzdata
  libpg-query-dev postgresql-client-15 python3-psycopg2 libpq-dev libpqxx-dev
  libyaml-cpp-dev
)
# Node.js runs the S3 and Azure emulators the tests start; this machine kind
# ships Node.js 20 with npm, Debian's own is the fallback.
command -v npm >/dev/null 2>&1 || PACKAGES+=(nodejs npm)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -ne 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The real servers the tests start on loopback (s3rver, azurite), DuckDB (the SQL and
# Parquet oracle, and the TSBS side-by-side benchmark: @duckdb/node-api, prebuilt
# bindings), node-postgres (a pgwire client) and hyparquet (a second Parquet reader),
# pinned by tests/node/package-lock.json. Skipped when already
# installed from that lock.
NODE_DIR="$(cd "$(dirname "$0")/.." && pwd)/tests/node"
if [ "${TIMESTORE_SKIP_NPM:-0}" != 1 ] &&
   { [ ! -f "$NODE_DIR/node_modules/.package-lock.json" ] ||
     [ "$NODE_DIR/package-lock.json" -nt "$NODE_DIR/node_modules/.package-lock.json" ]; }; then
  echo "installing test peers from npm into $NODE_DIR" >&2
  (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
