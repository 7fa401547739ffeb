#!/usr/bin/env bash
# generate.sh linear|graph N: prints a C++ program with a flow of N tasks that each pass an int on,
# runs it with fk::engine, and exits non-zero unless the result is the one computed here.
#   linear: t0 reads the store's "x", t<i> reads t<i-1>'s output.
#   graph:  layers of WIDTH tasks; each task reads one or two slots of the layer before, listed in
#           reverse so that the order must come from the data, not from the argument list.
set -euo pipefail
kind=${1:?linear or graph} n=${2:?number of tasks}
WIDTH=4
M=1000

declare -a v  # the value each task computes, to check the engine's
echo '#include <flowkit/flowkit.hpp>'
echo
echo 'namespace fk = flowkit;'
echo
echo 'int main() {'
for ((i = 0; i < n; ++i)); do
  if [[ $kind == linear ]]; then
    if ((i == 0)); then a=x av=1; else a=v$((i - 1)) av=${v[i - 1]}; fi
    b=
  else
    layer=$((i / WIDTH)) col=$((i % WIDTH))
    if ((layer == 0)); then
      a=x av=1 b=
    else
      prev=$(((layer - 1) * WIDTH))
      ia=$((prev + col)) ib=$((prev + (col + 1) % WIDTH))
      a=v$ia av=${v[ia]} b=
      # every other task reads two slots; the first layer is always full, so both exist
      if ((col % 2 == 1 && ib != ia)); then b=v$ib bv=${v[ib]}; fi
    fi
  fi
  if [[ -z $b ]]; then
    v[i]=$(((av + 1) % M))
    printf '  auto t%d = fk::task<"t%d">(fk::inputs<"%s">, fk::outputs<"v%d">, [](int a) { return (a + 1) %% %d; });\n' \
      "$i" "$i" "$a" "$i" "$M"
  else
    v[i]=$(((av + bv) % M))
    printf '  auto t%d = fk::task<"t%d">(fk::inputs<"%s", "%s">, fk::outputs<"v%d">,\n' "$i" "$i" "$a" "$b" "$i"
    printf '                        [](int a, int b) { return (a + b) %% %d; });\n' "$M"
  fi
done
args=()
if [[ $kind == linear ]]; then
  for ((i = 0; i < n; ++i)); do args+=("t$i"); done
  echo "  auto flow = fk::linear_flow<\"linear\">($(IFS=,; echo "${args[*]}" | sed 's/,/, /g'));"
else
  for ((i = n - 1; i >= 0; --i)); do args+=("t$i"); done
  echo "  auto flow = fk::graph_flow<\"graph\">($(IFS=,; echo "${args[*]}" | sed 's/,/, /g'));"
fi
echo '  fk::engine eng{flow, fk::store<"x">(1)};'
echo '  auto r = eng.run();'
echo "  return r.succeeded() && r.get<\"v$((n - 1))\">() == ${v[n - 1]} ? 0 : 1;"
echo '}'
