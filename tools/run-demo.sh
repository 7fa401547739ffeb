#!/usr/bin/env bash
# run-demo.sh [demo arguments...]: installs what the demo needs, builds the demo and flowkit-admin
# (Release, in build/demo) and runs the demo, which ends with flowkit-admin's table of its runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh --demo
cmake -S . -B build/demo -DCMAKE_BUILD_TYPE=Release \
  -DFLOWKIT_BUILD_TESTS=OFF -DFLOWKIT_BUILD_BENCHMARKS=OFF -DFLOWKIT_BUILD_TOOLS=ON >/dev/null
cmake --build build/demo --target flowkit-demo flowkit-admin -j2
echo
exec build/demo/examples/flowkit-demo --admin build/demo/tools/flowkit-admin/flowkit-admin "$@"
