#!/usr/bin/env bash
# install-deps.sh [--demo] [extra packages...]: installs flowkit's build and test dependencies from
# Debian's own packages (Debian 12). Skips apt entirely when everything is already installed.
# --demo: only what the demo and flowkit-admin need (a newcomer's first command waits for less).
set -euo pipefail
demo_packages=(
  g++ cmake make pkg-config
  libboost-dev libboost-serialization-dev liblmdb-dev
  libcli11-dev nlohmann-json3-dev
)
if [[ ${1:-} == --demo ]]; then
  shift
  packages=("${demo_packages[@]}" "$@")
else
  packages=(
    g++ cmake make pkg-config                       # toolchain; the sanitizer runtimes come with g++
    clang                                           # the second compiler the tests are built with
    libclang-rt-14-dev                              # clang's libFuzzer and sanitizer runtimes (fuzzers)
    libboost-dev libboost-serialization-dev         # Hana; Serialization for the LMDB layer
    liblmdb-dev                                     # checkpoints and the jobboard
    catch2                                          # tests (v2)
    libbenchmark-dev libtbb-dev                     # benchmarks, built with the tests
    libcli11-dev nlohmann-json3-dev                 # flowkit-admin; nlohmann-json parses traces in tests
    libpqxx-dev                                     # the PostgreSQL jobboard and checkpoint store
    postgresql-15                                   # the server the PostgreSQL tests start (initdb, pg_ctl)
    python3                                         # the documentation checks (tools/snippets.py, tools/error-gallery.py)
    "$@"
  )
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
((${#missing[@]})) || exit 0
echo "installing: ${missing[*]}"
sudo=
((EUID == 0)) || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
