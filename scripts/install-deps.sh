#!/usr/bin/env bash
# Installs the Debian 12 packages Timestore needs to build, test and run.
# Idempotent: packages already present are skipped by apt. Needs root or sudo.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config clang clang-format git
  libabsl-dev libsimdjson-dev libboost-dev libboost-system-dev
  liburing-dev liblz4-dev libzstd-dev libxxhash-dev
  libflatbuffers-dev flatbuffers-compiler libcurl4-openssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev libspdlog-dev libfmt-dev
  python3 curl
  python3-xxhash gnuplot-nox
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
