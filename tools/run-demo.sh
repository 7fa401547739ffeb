#!/usr/bin/env bash
# run-demo.sh [demo arguments...]: installs what flowkit needs, builds the demo (Release, in
# build/demo) and runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
cmake -S . -B build/demo -DCMAKE_BUILD_TYPE=Release \
  -DFLOWKIT_BUILD_TESTS=OFF -DFLOWKIT_BUILD_BENCHMARKS=OFF -DFLOWKIT_BUILD_TOOLS=OFF >/dev/null
cmake --build build/demo --target flowkit-demo -j2
echo
exec build/demo/examples/flowkit-demo "$@"
