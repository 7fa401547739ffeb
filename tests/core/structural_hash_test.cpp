// fk::structural_hash<Flow>: the same structure hashes the same, whatever the tasks' code; any
// change of kind, atom name, slot name, slot type, link, decider, depth or retry scope differs.
#include "structural_hash/flows.hpp"

#include <flowkit/flowkit.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <set>
#include <string>

namespace fk = flowkit;

namespace {

template <class Flow>
constexpr std::uint64_t hash_of(const Flow&) {
  return fk::structural_hash<Flow>;
}

auto a() {
  return fk::task<"a">(fk::outputs<"x">, [] { return 1; });
}
auto b() {
  return fk::task<"b">(fk::inputs<"x">, fk::outputs<"y">, [](int x) { return x + 1; });
}
auto c() {
  return fk::task<"c">(fk::inputs<"x">, [](int) {});
}

}  // namespace

TEST_CASE("the same structure hashes the same, whatever the tasks' code and bound values", "[flow][hash]") {
  auto one = fk::linear_flow<"f">(a(), b());
  auto two =
      fk::linear_flow<"f">(fk::task<"a">(fk::outputs<"x">, [] { return 42; }),
                           fk::task<"b">(fk::inputs<"x">, fk::outputs<"y">, [](int x) { return x * 3; }));
  STATIC_REQUIRE(!std::is_same_v<decltype(one), decltype(two)>);  // other lambdas: other types
  STATIC_REQUIRE(fk::structural_hash<decltype(one)> == fk::structural_hash<decltype(two)>);  // compile time
  CHECK(hash_of(one) == hash_of(two));
  // A controller's parameters are not structure.
  CHECK(hash_of(fk::linear_flow<"f">(a()).retry(fk::times(2))) ==
        hash_of(fk::linear_flow<"f">(a()).retry(fk::times(5))));
  // The flow the two printer programs hash.
  CHECK(hash_of(hash_check::order_flow()) == hash_of(hash_check::order_flow()));
  CHECK(fk::structural_hash<decltype(hash_check::order_flow())> != 0);
}

TEST_CASE("a change of any part of the structure changes the hash", "[flow][hash]") {
  const std::uint64_t base = hash_of(fk::linear_flow<"f">(a(), b()));
  const std::uint64_t variants[] = {
      // flow kind
      hash_of(fk::graph_flow<"f">(a(), b())),
      // flow name, atom name
      hash_of(fk::linear_flow<"g">(a(), b())),
      hash_of(fk::linear_flow<"f">(
          a(), fk::task<"b2">(fk::inputs<"x">, fk::outputs<"y">, [](int x) { return x; }))),
      // output slot name, input slot name (with its producer renamed too)
      hash_of(fk::linear_flow<"f">(
          a(), fk::task<"b">(fk::inputs<"x">, fk::outputs<"z">, [](int x) { return x; }))),
      hash_of(
          fk::linear_flow<"f">(fk::task<"a">(fk::outputs<"w">, [] { return 1; }),
                               fk::task<"b">(fk::inputs<"w">, fk::outputs<"y">, [](int x) { return x; }))),
      // slot type: output and input
      hash_of(fk::linear_flow<"f">(
          a(), fk::task<"b">(fk::inputs<"x">, fk::outputs<"y">, [](int x) { return long{x}; }))),
      hash_of(fk::linear_flow<"f">(
          fk::task<"a">(fk::outputs<"x">, [] { return 1L; }),
          fk::task<"b">(fk::inputs<"x">, fk::outputs<"y">, [](long x) { return int(x); }))),
      // one more atom; the order of atoms
      hash_of(fk::linear_flow<"f">(a(), b(), c())),
      hash_of(fk::linear_flow<"f">(a(), c(), b())),
      // nesting
      hash_of(fk::linear_flow<"f">(a(), fk::linear_flow<"in">(b()))),
      // a retry scope, its kind, the flow it is attached to
      hash_of(fk::linear_flow<"f">(a(), b()).retry(fk::times(2))),
      hash_of(fk::linear_flow<"f">(a(), b()).retry(fk::always_revert)),
      hash_of(fk::linear_flow<"f">(a(), fk::linear_flow<"in">(b()).retry(fk::times(2)))),
      hash_of(fk::linear_flow<"f">(a(), fk::linear_flow<"in">(b())).retry(fk::times(2))),
  };
  std::set<std::uint64_t> seen{base};
  for (std::size_t i = 0; i < std::size(variants); ++i) {
    INFO("variant " << i);
    CHECK(seen.insert(variants[i]).second);
  }
}

TEST_CASE("links, their deciders and depths change the hash", "[flow][hash]") {
  auto yes = [](int) { return true; };
  const std::uint64_t hashes[] = {
      hash_of(fk::graph_flow<"g">(a(), c())),
      hash_of(fk::graph_flow<"g">(a(), c(), fk::link<"a", "c">)),
      hash_of(fk::graph_flow<"g">(a(), c(), fk::link<"a", "c">(yes))),
      hash_of(fk::graph_flow<"g">(a(), c(), fk::link<"a", "c", fk::depth::atom>(yes))),
      hash_of(fk::graph_flow<"g">(a(), c(), fk::link<"a", "c", fk::depth::flow>(yes))),
  };
  std::set<std::uint64_t> seen;
  for (std::size_t i = 0; i < std::size(hashes); ++i) {
    INFO("flow " << i);
    CHECK(seen.insert(hashes[i]).second);
  }
  // A decider's code is not structure.
  CHECK(hash_of(fk::graph_flow<"g">(a(), c(), fk::link<"a", "c">(yes))) ==
        hash_of(fk::graph_flow<"g">(a(), c(), fk::link<"a", "c">([](int v) { return v > 3; }))));
}

TEST_CASE("a type's constexpr name is the compiler's spelling, stable and distinct", "[flow][hash]") {
  using fk::detail::constexpr_type_name;
  STATIC_REQUIRE(constexpr_type_name<int>() == "int");
#if defined(__clang__)
  STATIC_REQUIRE(constexpr_type_name<long>() == "long");
  STATIC_REQUIRE(constexpr_type_name<const int*>() == "const int *");
#else
  STATIC_REQUIRE(constexpr_type_name<long>() == "long int");
  STATIC_REQUIRE(constexpr_type_name<const int*>() == "const int*");
#endif
  CHECK(constexpr_type_name<std::string>().find("basic_string<char") != std::string_view::npos);
  STATIC_REQUIRE(constexpr_type_name<std::set<int>>() != constexpr_type_name<std::set<long>>());
}
