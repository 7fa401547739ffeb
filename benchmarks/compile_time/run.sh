#!/usr/bin/env bash
# run.sh [-r REPEATS] [-k linear|graph] [-o OUT_DIR] [SIZES...]: compiles generated linear and
# graph flows of each size with g++ -std=c++20 -O2, runs each program (it checks its own result),
# and prints a markdown table of wall time, CPU time (user + system) and peak memory. Every compile
# is done REPEATS times (default 2): the spread between runs shows the machine's noise. On a busy
# machine wall time includes waiting for a core; CPU time does not.
#   CXX (default g++) and CXXFLAGS (default -std=c++20 -O2) may be overridden.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
include=$(cd "$here/../../include" && pwd)
repeats=2 out= kinds=(linear graph)
while getopts r:k:o: opt; do
  case $opt in
    r) repeats=$OPTARG ;;
    k) kinds=("$OPTARG") ;;
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
echo '| flow | tasks | wall s (min) | wall s (max) | CPU s (min) | CPU s (max) | peak MiB (max) |'
echo '| --- | ---: | ---: | ---: | ---: | ---: | ---: |'
for kind in "${kinds[@]}"; do
  for n in "${sizes[@]}"; do
    src=$work/${kind}_$n.cpp exe=$work/${kind}_$n
    bash "$here/generate.sh" "$kind" "$n" >"$src"
    : >"$work/times"
    for ((k = 0; k < repeats; ++k)); do
      /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$cxx" "${cxxflags[@]}" -I"$include" "$src" -o "$exe" -pthread
      cat "$work/time" >>"$work/times"
    done
    "$exe" || { echo "$kind flow of $n tasks computed a wrong result" >&2; exit 1; }
    awk -v kind="$kind" -v n="$n" '
      NR == 1 { wmin = wmax = $1; cmin = cmax = $2 + $3; mem = $4 }
      { c = $2 + $3; if ($1 < wmin) wmin = $1; if ($1 > wmax) wmax = $1
        if (c < cmin) cmin = c; if (c > cmax) cmax = c; if ($4 > mem) mem = $4 }
      END { printf "| %s | %d | %.2f | %.2f | %.2f | %.2f | %d |\n", kind, n, wmin, wmax, cmin, cmax, (mem + 512) / 1024 }
    ' "$work/times"
  done
done
