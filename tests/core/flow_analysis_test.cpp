// The compile-time analysis: which output feeds each input, the edges and the order. Every
// check here is evaluated by the compiler (STATIC_REQUIRE) over the analysis' constexpr tables.
#include <flowkit/flow/atom_graph.hpp>
#include <flowkit/flow/graph_flow.hpp>
#include <flowkit/flow/linear_flow.hpp>
#include <flowkit/flow/unordered_flow.hpp>

#include <catch2/catch.hpp>

#include <string_view>

namespace fk = flowkit;
using fk::detail::npos;

namespace {

// A task that reads `In` (or nothing) and provides `Out` (or nothing), with int slots.
template <fk::name Name, fk::name Out>
constexpr auto source() {
  return fk::task<Name>(fk::outputs<Out>, [] { return 0; });
}
template <fk::name Name, fk::name In, fk::name Out>
constexpr auto step() {
  return fk::task<Name>(fk::inputs<In>, fk::outputs<Out>, [](int v) { return v; });
}
template <fk::name Name, fk::name In>
constexpr auto sink() {
  return fk::task<Name>(fk::inputs<In>, [](int) {});
}

template <class Flow>
constexpr std::size_t atom_index(std::string_view atom) {
  constexpr auto& s = fk::detail::spec_v<Flow>;
  for (std::size_t a = 0; a < s.size.atoms; ++a)
    if (s.atoms[a].label == atom) return a;
  return npos;
}

// The atom whose output feeds `consumer`'s input `slot`: its name, or "" when it comes from
// outside the flow.
template <class Flow>
constexpr std::string_view producer_of(std::string_view consumer, std::string_view slot) {
  constexpr auto& s = fk::detail::spec_v<Flow>;
  constexpr auto& an = fk::detail::analysis_v<Flow>;
  const std::size_t a = atom_index<Flow>(consumer);
  for (std::size_t i = s.atoms[a].input_begin; i < s.atoms[a].input_end; ++i)
    if (s.inputs[i].slot == slot)
      return an.producers[i].found() ? s.atoms[an.producers[i].atom].label : std::string_view{};
  return "no such input";
}

template <class Flow>
constexpr bool has_edge(std::string_view from, std::string_view to) {
  constexpr auto& g = fk::detail::atom_graph_v<Flow>;
  const std::size_t f = atom_index<Flow>(from), t = atom_index<Flow>(to);
  for (std::size_t e = g.successors_begin[f]; e < g.successors_begin[f + 1]; ++e)
    if (g.successors[e] == t) return true;
  return false;
}

template <class Flow>
constexpr std::size_t position(std::string_view atom) {
  constexpr auto& an = fk::detail::analysis_v<Flow>;
  for (std::size_t i = 0; i < fk::detail::spec_v<Flow>.size.atoms; ++i)
    if (an.order[i] == atom_index<Flow>(atom)) return i;
  return npos;
}

}  // namespace

TEST_CASE("in a linear flow the nearest earlier provider wins", "[flow]") {
  using F = decltype(fk::linear_flow<"lf">(source<"p1", "v">(), source<"p2", "v">(), sink<"e", "v">()));
  STATIC_REQUIRE(producer_of<F>("e", "v") == "p2");
  STATIC_REQUIRE(has_edge<F>("p1", "p2"));
  STATIC_REQUIRE(has_edge<F>("p2", "e"));
  STATIC_REQUIRE(!has_edge<F>("p1", "e"));
}

TEST_CASE("an inner provider is nearer than an outer one", "[flow]") {
  using F = decltype(fk::linear_flow<"outer">(source<"outer_p", "v">(),
                                              fk::linear_flow<"inner">(source<"inner_p", "v">(), sink<"e", "v">())));
  STATIC_REQUIRE(producer_of<F>("e", "v") == "inner_p");
}

TEST_CASE("a provider after the consumer is not seen, the input comes from the store", "[flow]") {
  using F = decltype(fk::linear_flow<"lf">(sink<"e", "v">(), source<"late", "v">()));
  STATIC_REQUIRE(producer_of<F>("e", "v").empty());
}

TEST_CASE("a task that reads and provides one slot reads the earlier value", "[flow]") {
  using F = decltype(fk::linear_flow<"lf">(source<"a", "x">(), step<"inc", "x", "x">(), step<"inc2", "x", "x">(),
                                           sink<"e", "x">()));
  STATIC_REQUIRE(producer_of<F>("inc", "x") == "a");
  STATIC_REQUIRE(producer_of<F>("inc2", "x") == "inc");
  STATIC_REQUIRE(producer_of<F>("e", "x") == "inc2");
}

TEST_CASE("an unordered flow orders nothing inside and follows what precedes it", "[flow]") {
  using F = decltype(fk::linear_flow<"lf">(source<"a", "x">(),
                                           fk::unordered_flow<"uf">(step<"b", "x", "y">(), step<"c", "x", "z">()),
                                           sink<"d", "y">()));
  STATIC_REQUIRE(producer_of<F>("b", "x") == "a");
  STATIC_REQUIRE(producer_of<F>("c", "x") == "a");
  STATIC_REQUIRE(producer_of<F>("d", "y") == "b");
  STATIC_REQUIRE(!has_edge<F>("b", "c"));
  STATIC_REQUIRE(!has_edge<F>("c", "b"));
  STATIC_REQUIRE(has_edge<F>("a", "b"));
  STATIC_REQUIRE(has_edge<F>("a", "c"));
  STATIC_REQUIRE(has_edge<F>("b", "d"));
  STATIC_REQUIRE(has_edge<F>("c", "d"));  // every sink of the unordered flow precedes d
}

TEST_CASE("a graph flow infers edges from data whatever the order of its children", "[flow]") {
  using F = decltype(fk::graph_flow<"g">(sink<"d", "z">(), step<"c", "y", "z">(), step<"b", "x", "y">(),
                                         source<"a", "x">()));
  STATIC_REQUIRE(producer_of<F>("d", "z") == "c");
  STATIC_REQUIRE(producer_of<F>("b", "x") == "a");
  STATIC_REQUIRE(position<F>("a") < position<F>("b"));
  STATIC_REQUIRE(position<F>("b") < position<F>("c"));
  STATIC_REQUIRE(position<F>("c") < position<F>("d"));
  STATIC_REQUIRE(fk::detail::atom_edge_count_v<F> == 3);
}

TEST_CASE("explicit links add edges, a link beside a data edge adds none", "[flow]") {
  using F = decltype(fk::graph_flow<"g">(source<"a", "x">(), sink<"b", "x">(), source<"c", "y">(),
                                         fk::link<"b", "c">, fk::link<"a", "b">));
  STATIC_REQUIRE(has_edge<F>("b", "c"));
  STATIC_REQUIRE(has_edge<F>("a", "b"));
  STATIC_REQUIRE(fk::detail::atom_edge_count_v<F> == 2);
  STATIC_REQUIRE(position<F>("b") < position<F>("c"));
}

TEST_CASE("a nested flow is one node of a graph flow: its sinks precede the consumer's sources", "[flow]") {
  using F = decltype(fk::graph_flow<"g">(
      fk::linear_flow<"consume">(sink<"first", "w">(), sink<"second", "v">()),
      fk::unordered_flow<"provide">(source<"p", "v">(), source<"q", "w">())));
  STATIC_REQUIRE(producer_of<F>("second", "v") == "p");
  STATIC_REQUIRE(producer_of<F>("first", "w") == "q");
  STATIC_REQUIRE(has_edge<F>("p", "first"));
  STATIC_REQUIRE(has_edge<F>("q", "first"));
  STATIC_REQUIRE(!has_edge<F>("p", "second"));  // ordered through "first"
  STATIC_REQUIRE(has_edge<F>("first", "second"));
}

TEST_CASE("an input with a default, or injected, needs no producer", "[flow]") {
  auto t = fk::task<"t">(fk::inputs<"a", "b">, [](int, int) {}).with_default<"a">(1).inject<"b">(2);
  using F = decltype(fk::linear_flow<"lf">(t));
  STATIC_REQUIRE(fk::detail::analysis_v<F>.error.ok());
  STATIC_REQUIRE(producer_of<F>("t", "a").empty());
}

TEST_CASE("empty flows order nothing and are skipped in a sequence", "[flow]") {
  using F = decltype(fk::linear_flow<"lf">(source<"a", "x">(), fk::linear_flow<"empty">(), sink<"b", "x">()));
  STATIC_REQUIRE(has_edge<F>("a", "b"));
  STATIC_REQUIRE(fk::detail::atom_edge_count_v<F> == 1);
}

TEST_CASE("the analysis is plain data the compiler computed", "[flow]") {
  using F = decltype(fk::linear_flow<"lf">(source<"a", "x">(), sink<"b", "x">()));
  constexpr auto& an = fk::detail::analysis_v<F>;
  STATIC_REQUIRE(an.error.ok());
  STATIC_REQUIRE(an.order[0] == 0);
  STATIC_REQUIRE(an.order[1] == 1);
  CHECK(fk::detail::spec_v<F>.atoms[1].label == "b");
}
