#!/usr/bin/env bash
# run-tests.sh: installs what flowkit needs, builds everything (tests, examples, benchmarks) with
# the debug preset (GCC) and runs the whole suite through CTest; builds the tests with clang (the
# clang preset) and runs them, compile-fail checks included; builds the release preset (its
# warnings at -O2 differ) and runs its unit tests; then builds the tests with ASan+UBSan (all
# tests) and with TSan (the tests tagged [engine], [jobboard], [persistence] or [conductor]) and
# runs them. The PostgreSQL tests start their own server (tests/postgres/pg_server.sh): under
# CTest one for the run (a fixture), in the TSan stage one per test binary.
# Exits non-zero if anything fails. FLOWKIT_SANITIZERS=0 skips the sanitizer builds.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh

stage() { printf '\n== %s (%ds)\n' "$*" "$SECONDS"; }

# Counts what passed, for one closing line over all stages ("N passed, N failed").
passed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
count() {  # count REGEX: adds the number the regex captures in the last command's output
  local n
  n=$(sed -n "s/$1/\1/p" "$log" | tail -n 1)
  passed=$((passed + ${n:-0}))
}

stage "debug: configure"
cmake --preset debug >/dev/null
stage "debug: build"
cmake --build --preset debug
stage "debug: test"
ctest --preset debug | tee "$log"
count '.*tests passed, 0 tests failed out of \([0-9][0-9]*\).*'

stage "clang: configure, build"
cmake --preset clang >/dev/null
cmake --build --preset clang
stage "clang: test"
ctest --preset clang | tee "$log"
count '.*tests passed, 0 tests failed out of \([0-9][0-9]*\).*'

stage "release: configure, build"
cmake --preset release >/dev/null
cmake --build --preset release
stage "release: test (the compile-fail and consumer checks ran in debug)"
ctest --preset release | tee "$log"
count '.*tests passed, 0 tests failed out of \([0-9][0-9]*\).*'

if [[ ${FLOWKIT_SANITIZERS:-1} == 1 ]]; then
  stage "asan: configure, build"
  cmake --preset asan >/dev/null
  cmake --build --preset asan
  stage "asan: test"
  ctest --preset asan | tee "$log"
  count '.*tests passed, 0 tests failed out of \([0-9][0-9]*\).*'

  # TSan where threads are: the engine's and the jobboard's tests, run through Catch's tag filter.
  stage "tsan: configure, build"
  cmake --preset tsan >/dev/null
  cmake --build --preset tsan
  stage "tsan: test [engine],[jobboard],[persistence],[conductor]"
  export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
  while read -r exe; do
    echo "-- $exe"
    "$exe" '[engine],[jobboard],[persistence],[conductor]' | tee "$log"
    count '.*All tests passed ([0-9]* assertions* in \([0-9][0-9]*\) test cases*).*'
  done < <(find build/tsan/tests -path '*/CMakeFiles' -prune -o -path '*/consumer' -prune \
             -o -type f -perm -u+x -print | sort)
fi
stage "all passed"
echo "tests: $passed passed, 0 failed"
