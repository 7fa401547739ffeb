// The fan shape (a source, 1,000 independent workers, a join) on flowkit's engines. The only
// translation unit that instantiates this flow.
#include "parallel.hpp"

namespace bench {
namespace {

template <std::size_t I>
constexpr auto fan_worker() {
  return fk::task<name_v<'w', I>>(fk::inputs<"s">, fk::outputs<name_v<'o', I>>, [](int s) { return bump(s); });
}

template <std::size_t... Is>
constexpr auto make_fan(std::index_sequence<Is...>) {
  return fk::linear_flow<"fan">(fk::task<"source">(fk::inputs<"x">, fk::outputs<"s">, [](int x) { return bump(x); }),
                                fk::unordered_flow<"workers">(fan_worker<Is>()...),
                                fk::task<"join">(fk::outputs<"done">, [] { return bump(0); }));
}

auto fan_flow() { return make_fan(std::make_index_sequence<fan_width>{}); }

}  // namespace

void register_fan() {
  register_shape(
      "fan", fan_tasks, [] { return fan_flow(); },
      [](const auto& eng, int x) {
        return eng.template get<"done">() == 1 && eng.template get<name_v<'o', fan_width - 1>>() == x + 2;
      });
}

}  // namespace bench
