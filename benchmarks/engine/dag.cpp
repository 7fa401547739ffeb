// The dag shape (16 layers of 64 tasks, each fed by 2 of the layer before) on flowkit's engines.
// The only translation unit that instantiates this flow.
#include "parallel.hpp"

namespace bench {
namespace {

template <std::size_t I>
constexpr auto dag_node() {
  if constexpr (I < dag_width)
    return fk::task<name_v<'n', I>>(fk::inputs<"x">, fk::outputs<name_v<'d', I>>, [](int x) { return bump(x); });
  else
    return fk::task<name_v<'n', I>>(fk::inputs<name_v<'d', dag_first_input(I)>, name_v<'d', dag_second_input(I)>>,
                                    fk::outputs<name_v<'d', I>>, [](int a, int b) { return add(a, b); });
}

template <std::size_t... Is>
constexpr auto make_dag(std::index_sequence<Is...>) {
  return fk::graph_flow<"dag">(dag_node<Is>()...);
}

auto dag_flow() { return make_dag(std::make_index_sequence<dag_tasks>{}); }

}  // namespace

void register_dag() {
  register_shape(
      "dag", dag_tasks, [] { return dag_flow(); },
      [](const auto& eng, int x) { return eng.template get<name_v<'d', dag_tasks - 1>>() == dag_expected(x); });
}

}  // namespace bench
