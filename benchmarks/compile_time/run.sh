#!/usr/bin/env bash
# run.sh [-r REPEATS] [-o OUT_DIR] [SIZES...]: compiles generated linear and graph flows of each
# size with g++ -std=c++20 -O2, runs each program (it checks its own result), and prints a markdown
# table of wall time and peak memory. Every compile is done REPEATS times (default 2): the spread
# between the fastest and slowest shows the machine's noise.
#   CXX (default g++) and CXXFLAGS (default -std=c++20 -O2) may be overridden.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
include=$(cd "$here/../../include" && pwd)
repeats=2 out=
while getopts r:o: opt; do
  case $opt in
    r) repeats=$OPTARG ;;
    o) out=$OPTARG ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
sizes=("$@")
((${#sizes[@]})) || sizes=(10 50 100 200 500)
cxx=${CXX:-g++}
read -r -a cxxflags <<<"${CXXFLAGS:--std=c++20 -O2}"
[[ -x /usr/bin/time ]] || { echo "run.sh needs GNU time (/usr/bin/time)" >&2; exit 2; }
work=${out:-$(mktemp -d)}
mkdir -p "$work"

echo "compiler: $("$cxx" --version | head -n1); flags: ${cxxflags[*]}; repeats: $repeats"
echo "cores: $(nproc); CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
echo
echo '| flow | tasks | wall s (min) | wall s (max) | peak MiB (max) |'
echo '| --- | ---: | ---: | ---: | ---: |'
for kind in linear graph; do
  for n in "${sizes[@]}"; do
    src=$work/${kind}_$n.cpp exe=$work/${kind}_$n
    bash "$here/generate.sh" "$kind" "$n" >"$src"
    min= max= mem=0
    for ((k = 0; k < repeats; ++k)); do
      /usr/bin/time -f '%e %M' -o "$work/time" "$cxx" "${cxxflags[@]}" -I"$include" "$src" -o "$exe" -pthread
      read -r secs kib <"$work/time"
      [[ -z $min ]] || awk -v a="$secs" -v b="$min" 'BEGIN { exit !(a < b) }' && min=$secs
      [[ -z $max ]] || awk -v a="$secs" -v b="$max" 'BEGIN { exit !(a > b) }' && max=$secs
      ((kib > mem)) && mem=$kib
    done
    "$exe" || { echo "$kind flow of $n tasks computed a wrong result" >&2; exit 1; }
    printf '| %s | %d | %s | %s | %d |\n' "$kind" "$n" "$min" "$max" $(((mem + 512) / 1024))
  done
done
