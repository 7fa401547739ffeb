// fk::to_dot: clusters for nested flows, data edges labelled with slot and type.
#include <flowkit/flowkit.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace fk = flowkit;

TEST_CASE("to_dot draws atoms, clusters, typed data edges and ordering edges", "[dot]") {
  auto a = fk::task<"a">(fk::inputs<"seed">, fk::outputs<"x">, [](int s) { return s; });
  auto b = fk::task<"b">(fk::inputs<"x">, fk::outputs<"y">, [](int x) { return x + 1.0; });
  auto c = fk::task<"c">(fk::inputs<"x">, fk::outputs<"z">, [](int x) { return std::to_string(x); });
  auto d = fk::task<"d">(fk::inputs<"y", "z">, [](double, const std::string&) {});
  auto e = fk::task<"e">([] {});
  const std::string dot =
      fk::to_dot(fk::linear_flow<"root">(a, fk::unordered_flow<"par">(b, c), fk::graph_flow<"g">(d, e, fk::link<"e", "d">)));
  CHECK(dot.rfind("digraph \"root\" {", 0) == 0);
  CHECK(dot.find("label=\"par (unordered)\"") != std::string::npos);
  CHECK(dot.find("label=\"g (graph)\"") != std::string::npos);
  CHECK(dot.find("\"a\" -> \"b\" [label=\"x: int\"]") != std::string::npos);
  CHECK(dot.find("\"c\" -> \"d\" [label=\"z: std::string\"]") != std::string::npos);
  CHECK(dot.find("\"b\" -> \"d\" [label=\"y: double\"]") != std::string::npos);
  CHECK(dot.find("\"e\" -> \"d\" [style=dashed]") != std::string::npos);
  CHECK(dot.find("\"slot:seed\" -> \"a\" [label=\"seed: int\"]") != std::string::npos);
  CHECK(dot.back() == '\n');
  CHECK(dot.find("}\n") != std::string::npos);
}

TEST_CASE("to_dot shows retry scopes and decider links", "[dot]") {
  auto a = fk::task<"a">(fk::outputs<"ok">, [] { return true; });
  auto b = fk::task<"b">(fk::inputs<"amount">, [](int) {});
  const std::string dot = fk::to_dot(
      fk::graph_flow<"g">(a, fk::linear_flow<"pay">(b).retry(fk::for_each<"amount">(std::vector<int>{1, 2})),
                          fk::link<"a", "pay", fk::depth::flow>([](bool ok) { return ok; })));
  CHECK(dot.find("label=\"pay (linear), retried by for_each\"") != std::string::npos);
  CHECK(dot.find("\"pay_retry\" [shape=diamond, label=\"pay_retry (for_each)\"]") != std::string::npos);
  CHECK(dot.find("\"pay_retry\" -> \"b\" [label=\"amount: int\"]") != std::string::npos);
  CHECK(dot.find("\"a\" -> \"pay_retry\" [color=blue, fontcolor=blue, label=\"decider, depth flow\"]") !=
        std::string::npos);
}
