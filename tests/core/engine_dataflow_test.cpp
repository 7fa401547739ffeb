// The serial engine passes every input the value its producer returned, in linear, unordered,
// graph and nested flows, and reads from the store what no task provides.
#include <flowkit/flowkit.hpp>

#include <catch2/catch.hpp>

#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

namespace fk = flowkit;

namespace {

struct order {
  int id;
  double amount;
};

struct scale {
  static constexpr fk::name name = "scale";
  using inputs = fk::names<"value", "factor">;
  using outputs = fk::names<"scaled">;
  double execute(double v, double f) const { return v * f; }
};

// What each task received, by task name.
using received_log = std::map<std::string, std::vector<std::string>>;

}  // namespace

TEST_CASE("a linear flow passes each output to the tasks after it", "[engine][dataflow]") {
  received_log seen;
  auto fetch = fk::task<"fetch">(fk::inputs<"order_id">, fk::outputs<"order">, [&](int id) {
    seen["fetch"].push_back(std::to_string(id));
    return order{id, id * 2.5};
  });
  auto charge = fk::task<"charge">(fk::inputs<"order">, fk::outputs<"receipt", "cents">, [&](const order& o) {
    seen["charge"].push_back(std::to_string(o.id) + "/" + std::to_string(o.amount));
    return std::tuple{"R-" + std::to_string(o.id), static_cast<long>(o.amount * 100)};
  });
  auto ship = fk::task<"ship">(fk::inputs<"order", "receipt", "cents">, fk::outputs<"tracking">,
                               [&](order o, const std::string& r, long cents) {
                                 seen["ship"].push_back(std::to_string(o.id) + "|" + r + "|" + std::to_string(cents));
                                 return r + "-T";
                               });
  fk::engine eng{fk::linear_flow<"checkout">(fetch, charge, ship), fk::store<"order_id">(42)};
  auto r = eng.run();
  REQUIRE(r.state() == fk::flow_state::success);
  CHECK(seen["fetch"] == std::vector<std::string>{"42"});
  CHECK(seen["charge"] == std::vector<std::string>{"42/105.000000"});
  CHECK(seen["ship"] == std::vector<std::string>{"42|R-42|10500"});
  CHECK(r.get<"tracking">() == "R-42-T");
  CHECK(r.get<"cents">() == 10500);
  CHECK(r.get<"order_id">() == 42);  // a store value is a result too
  CHECK(r.get<"order">().amount == 105.0);
}

TEST_CASE("the nearest provider's value reaches a consumer, the store only what nobody makes", "[engine][dataflow]") {
  auto p1 = fk::task<"p1">(fk::outputs<"v">, [] { return std::string("from p1"); });
  auto p2 = fk::task<"p2">(fk::outputs<"v">, [] { return std::string("from p2"); });
  std::string got;
  auto e = fk::task<"e">(fk::inputs<"v">, [&](const std::string& v) { got = v; });
  fk::engine eng{fk::linear_flow<"lf">(p1, p2, e), fk::store<"v">(std::string("from store"))};
  REQUIRE(eng.run().succeeded());
  CHECK(got == "from p2");
  CHECK(eng.get<"v">() == "from p2");

  std::string early;
  auto before = fk::task<"before">(fk::inputs<"v">, [&](const std::string& v) { early = v; });
  fk::engine eng2{fk::linear_flow<"lf">(before, p1), fk::store<"v">(std::string("from store"))};
  REQUIRE(eng2.run().succeeded());
  CHECK(early == "from store");
}

TEST_CASE("unordered siblings all read what precedes them", "[engine][dataflow]") {
  auto seed = fk::task<"seed">(fk::outputs<"x">, [] { return 7; });
  auto twice = fk::task<"twice">(fk::inputs<"x">, fk::outputs<"a">, [](int x) { return 2 * x; });
  auto thrice = fk::task<"thrice">(fk::inputs<"x">, fk::outputs<"b">, [](int x) { return 3 * x; });
  auto label = fk::task<"label">(fk::inputs<"x">, fk::outputs<"c">, [](int x) { return "x=" + std::to_string(x); });
  std::string summary;
  auto join = fk::task<"join">(fk::inputs<"a", "b", "c">, [&](int a, int b, const std::string& c) {
    summary = std::to_string(a) + "," + std::to_string(b) + "," + c;
  });
  fk::engine eng{fk::linear_flow<"lf">(seed, fk::unordered_flow<"fan">(twice, thrice, label), join)};
  REQUIRE(eng.run().succeeded());
  CHECK(summary == "14,21,x=7");
}

TEST_CASE("a graph flow runs children in data order and passes their values", "[engine][dataflow]") {
  std::vector<std::string> ran;
  auto d = fk::task<"d">(fk::inputs<"b", "c">, fk::outputs<"d">, [&](int b, int c) {
    ran.push_back("d");
    return b * 100 + c;
  });
  auto c = fk::task<"c">(fk::inputs<"a">, fk::outputs<"c">, [&](int a) {
    ran.push_back("c");
    return a + 2;
  });
  auto b = fk::task<"b">(fk::inputs<"a">, fk::outputs<"b">, [&](int a) {
    ran.push_back("b");
    return a + 1;
  });
  auto a = fk::task<"a">(fk::inputs<"start">, fk::outputs<"a">, [&](int s) {
    ran.push_back("a");
    return s;
  });
  fk::engine eng{fk::graph_flow<"diamond">(d, c, b, a), fk::store<"start">(10)};
  REQUIRE(eng.run().succeeded());
  CHECK(eng.get<"d">() == 11 * 100 + 12);
  REQUIRE(ran.size() == 4);
  CHECK(ran.front() == "a");
  CHECK(ran.back() == "d");
}

TEST_CASE("nested flows pass values across levels", "[engine][dataflow]") {
  auto root = fk::linear_flow<"root">(
      fk::task<"load">(fk::inputs<"n">, fk::outputs<"base">, [](int n) { return n * 10; }),
      fk::graph_flow<"middle">(
          fk::unordered_flow<"branches">(
              fk::task<"left">(fk::inputs<"base">, fk::outputs<"l">, [](int b) { return b + 1; }),
              fk::task<"right">(fk::inputs<"base">, fk::outputs<"r">, [](int b) { return b + 2; })),
          fk::linear_flow<"combine">(
              fk::task<"sum">(fk::inputs<"l", "r">, fk::outputs<"s">, [](int l, int r) { return l + r; }),
              fk::task<"describe">(fk::inputs<"s", "n">, fk::outputs<"text">,
                                   [](int s, int n) { return std::to_string(n) + "->" + std::to_string(s); }))),
      fk::task<"final">(fk::inputs<"text", "base">, fk::outputs<"out">,
                        [](const std::string& t, int base) { return t + "@" + std::to_string(base); }));
  fk::engine eng{root, fk::store<"n">(4)};
  REQUIRE(eng.run().succeeded());
  CHECK(eng.get<"s">() == 41 + 42);
  CHECK(eng.get<"out">() == "4->83@40");
}

TEST_CASE("class tasks, rebound, injected and defaulted inputs get their values", "[engine][dataflow]") {
  auto src = fk::task<"src">(fk::outputs<"raw">, [] { return 2.0; });
  auto with_factor = fk::task<"factor_of">(fk::inputs<"bonus", "base">, fk::outputs<"factor">,
                                           [](int bonus, int base) { return static_cast<double>(bonus + base); })
                         .with_default<"bonus">(5)
                         .inject<"base">(100);
  auto flow = fk::linear_flow<"lf">(src, with_factor, fk::rebind<"value", "raw">(fk::as_task(scale{})));
  fk::engine eng{flow};
  REQUIRE(eng.run().succeeded());
  CHECK(eng.get<"scaled">() == 2.0 * 105.0);

  fk::engine with_bonus{flow, fk::store<"bonus", "base">(1, -1)};  // a store value beats a default,
  REQUIRE(with_bonus.run().succeeded());                            // never an injected value
  CHECK(with_bonus.get<"scaled">() == 2.0 * 101.0);
}

TEST_CASE("a failing task stops the serial run, is reported, and what ran is reverted", "[engine]") {
  int after = 0;
  auto ok = fk::task<"ok">(fk::outputs<"x">, [] { return 1; });
  auto bad = fk::task<"bad">(fk::inputs<"x">, [](int) { throw std::domain_error("card declined"); });
  auto later = fk::task<"later">([&] { ++after; });
  fk::engine eng{fk::linear_flow<"lf">(ok, bad, later)};
  auto r = eng.run();
  CHECK(r.state() == fk::flow_state::reverted);
  REQUIRE(r.failures().size() == 1);
  CHECK(r.failures()[0].atom() == "bad");
  CHECK(r.failures()[0].type_name() == "std::domain_error");
  CHECK(r.failures()[0].what() == "card declined");
  CHECK(after == 0);
  CHECK(eng.state_of("ok") == fk::atom_state::reverted);
  CHECK(eng.state_of("bad") == fk::atom_state::reverted);
  CHECK(eng.state_of("later") == fk::atom_state::pending);
  CHECK_FALSE(r.has<"x">());  // a reverted atom's outputs are gone
  CHECK_THROWS_AS(r.get<"x">(), fk::no_result);
  CHECK_THROWS_AS(eng.state_of("nope"), std::out_of_range);
}

TEST_CASE("text given to the store as a literal or a char pointer is kept as a std::string",
          "[engine][dataflow]") {
  auto greet = fk::task<"greet">(fk::inputs<"who">, fk::outputs<"greeting">,
                                 [](const std::string& who) { return "Hello, " + who; });
  fk::engine eng{fk::linear_flow<"hello">(greet), fk::store<"who">("Lisbon")};  // a std::string input
  STATIC_REQUIRE(std::is_same_v<std::remove_cvref_t<decltype(eng.store().get<"who">())>, std::string>);
  CHECK(eng.run().get<"greeting">() == "Hello, Lisbon");

  const char* city = "Porto";
  char buffer[] = "Faro";
  auto s = fk::store<"a", "b", "n", "v">(city, buffer, 3, std::string_view{"view"});
  STATIC_REQUIRE(std::is_same_v<decltype(s), fk::store_t<fk::names<"a", "b", "n", "v">, std::string,
                                                         std::string, int, std::string_view>>);
  buffer[0] = 'X';  // the store owns its text
  CHECK(s.get<"a">() == "Porto");
  CHECK(s.get<"b">() == "Faro");
}
