// Tasks: what is reflected from a callable or a class, and what modifiers change.
#include <flowkit/core/task.hpp>

#include <catch2/catch.hpp>

#include <stdexcept>
#include <stop_token>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

namespace fk = flowkit;

namespace {

struct order {
  int id;
  double amount;
};

struct ship {
  static constexpr fk::name name = "ship";
  using inputs = fk::names<"order", "receipt">;
  using outputs = fk::names<"tracking">;
  int reverts = 0;
  std::string execute(const order& o, const std::string& receipt) { return receipt + "/" + std::to_string(o.id); }
  void revert(const order&, const std::string&, const fk::outcome<std::string>& r) {
    reverts += r.succeeded() ? 1 : 100;
  }
};

// Calls a task with inputs given by a tuple, in slot order.
template <class Task, class... Values>
decltype(auto) call(Task& t, const std::tuple<Values...>& values, fk::progress& p) {
  std::stop_source stop;
  return t.execute([&]<std::size_t I>(std::integral_constant<std::size_t, I>) -> decltype(auto) { return std::get<I>(values); },
                   stop.get_token(), p);
}

}  // namespace

TEST_CASE("a lambda task's slots come from its parameters and result", "[task]") {
  auto t = fk::task<"charge">(fk::inputs<"order", "rate">, fk::outputs<"receipt", "total">,
                              [](const order& o, double rate) { return std::tuple{std::string("r"), o.amount * rate}; });
  using T = decltype(t);
  STATIC_REQUIRE(T::input_count == 2);
  STATIC_REQUIRE(std::is_same_v<T::input_type<0>, order>);  // const& decays to the slot's type
  STATIC_REQUIRE(std::is_same_v<T::input_type<1>, double>);
  STATIC_REQUIRE(std::is_same_v<T::output_type<0>, std::string>);
  STATIC_REQUIRE(std::is_same_v<T::output_type<1>, double>);
  STATIC_REQUIRE(T::input_slots[0] == "order");
  STATIC_REQUIRE(T::output_names[1] == "total");
  STATIC_REQUIRE(!T::has_revert);

  fk::progress p;
  auto [receipt, total] = call(t, std::tuple{order{1, 10.0}, 1.5}, p);
  CHECK(receipt == "r");
  CHECK(total == 15.0);
}

TEST_CASE("a task with one output publishes its whole result, a void task none", "[task]") {
  auto whole = fk::task<"pair">(fk::outputs<"both">, [] { return std::tuple{1, 2}; });
  STATIC_REQUIRE(std::is_same_v<decltype(whole)::output_type<0>, std::tuple<int, int>>);
  auto none = fk::task<"log">(fk::inputs<"x">, [](int) {});
  STATIC_REQUIRE(decltype(none)::output_count == 0);
  STATIC_REQUIRE(std::is_void_v<decltype(none)::result_type>);
}

TEST_CASE("std::stop_token and fk::progress& are recognised by type, not slots", "[task]") {
  bool saw_stop_token = false;
  auto t = fk::task<"slow">(fk::inputs<"n">, fk::outputs<"m">, [&](std::stop_token st, int n, fk::progress& p) {
    saw_stop_token = st.stop_possible();
    p.update(2.0f);  // clamped
    return n * 2;
  });
  STATIC_REQUIRE(decltype(t)::input_count == 1);
  fk::progress p;
  CHECK(call(t, std::tuple{21}, p) == 42);
  CHECK(saw_stop_token);
  CHECK(p.value() == 1.0f);
}

TEST_CASE("rebind makes an input read another slot", "[task]") {
  auto add = fk::task<"add">(fk::inputs<"x", "y">, fk::outputs<"sum">, [](int x, int y) { return x + y; });
  auto rebound = fk::rebind<"y", "offset">(add);
  STATIC_REQUIRE(decltype(rebound)::input_slots[0] == "x");
  STATIC_REQUIRE(decltype(rebound)::input_slots[1] == "offset");
  auto again = rebound.rebind<"y", "delta">();  // the last rebind wins
  STATIC_REQUIRE(decltype(again)::input_slots[1] == "delta");
  STATIC_REQUIRE(decltype(add)::input_slots[1] == "y");  // the original is unchanged
}

TEST_CASE("inject gives an input a value the task carries, with_default makes it optional", "[task]") {
  auto scale = fk::task<"scale">(fk::inputs<"x", "factor">, fk::outputs<"y">, [](int x, long f) { return x * f; });
  auto injected = scale.inject<"factor">(1000);
  STATIC_REQUIRE(decltype(injected)::input_kinds[1] == fk::input_kind::injected);
  STATIC_REQUIRE(std::is_same_v<std::remove_cvref_t<decltype(injected.bound_value<1>())>, long>);
  CHECK(injected.bound_value<1>() == 1000);
  fk::progress p;
  // The injected input is taken from the task, whatever the fetch would give.
  CHECK(call(injected, std::tuple{3, 7L}, p) == 3000);

  auto optional = scale.with_default<"factor">(5);
  STATIC_REQUIRE(decltype(optional)::input_kinds[1] == fk::input_kind::optional);
  CHECK(optional.bound_value<1>() == 5);
}

TEST_CASE("a revert gets the inputs, the outcome and, if it asks, the flow's failures", "[task]") {
  int seen_total = 0;
  std::size_t seen_failures = 99;
  auto t = fk::task<"t">(fk::inputs<"a">, fk::outputs<"b">, [](int a) { return a + 1; })
               .on_revert([&](int a, const fk::outcome<int>& r, fk::failures all) {
                 seen_total = a + (r.succeeded() ? *r : -1000);
                 seen_failures = all.size();
               });
  STATIC_REQUIRE(decltype(t)::has_revert);
  const int result = 11;
  std::vector<fk::failure> failures{fk::failure{"x", "std::runtime_error", "boom"}};
  t.revert([](auto) -> const int& { static const int a = 10; return a; }, fk::outcome<int>{result}, failures);
  CHECK(seen_total == 21);
  CHECK(seen_failures == 1);

  const fk::failure f{"t", "std::logic_error", "bad"};
  t.revert([](auto) -> const int& { static const int a = 10; return a; }, fk::outcome<int>{f}, {});
  CHECK(seen_total == 10 - 1000);
  CHECK(seen_failures == 0);
}

TEST_CASE("a class with name, inputs, outputs, execute and revert is a task", "[task]") {
  auto t = fk::as_task(ship{});
  using T = decltype(t);
  STATIC_REQUIRE(T::name.view() == "ship");
  STATIC_REQUIRE(T::has_revert);
  STATIC_REQUIRE(std::is_same_v<T::input_type<0>, order>);
  STATIC_REQUIRE(std::is_same_v<T::output_type<0>, std::string>);
  fk::progress p;
  CHECK(call(t, std::tuple{order{7, 1.0}, std::string("R")}, p) == "R/7");
  const std::string tracking = "R/7";
  t.revert([]<std::size_t I>(std::integral_constant<std::size_t, I>) -> decltype(auto) {
    static const order o{7, 1.0};
    static const std::string r = "R";
    if constexpr (I == 0) return (o); else return (r);
  }, fk::outcome<std::string>{tracking}, {});
  CHECK(t.body().reverts == 1);
}

TEST_CASE("a failure keeps the atom, the exception's type, its message and the exception", "[task]") {
  fk::failure f;
  try {
    throw std::invalid_argument("no such order");
  } catch (...) {
    f = fk::failure::current("fetch");
  }
  CHECK(f.atom() == "fetch");
  CHECK(f.type_name() == "std::invalid_argument");
  CHECK(f.what() == "no such order");
  CHECK_THROWS_AS(f.rethrow(), std::invalid_argument);
}

namespace shop {
struct out_of_stock : std::runtime_error {
  using std::runtime_error::runtime_error;
};
}  // namespace shop

namespace {
// The failure of whatever `thrower` throws.
template <class Thrower>
fk::failure failure_of(Thrower thrower) {
  try {
    thrower();
  } catch (...) {
    return fk::failure::current("t");
  }
  return {};
}
}  // namespace

TEST_CASE("a failure's type name is demangled, also for exceptions that are no std::exception", "[task]") {
  CHECK(failure_of([] { throw shop::out_of_stock("none left"); }).type_name() == "shop::out_of_stock");
  CHECK(failure_of([] { throw std::string("text"); }).type_name() ==
        "std::string");  // not NSt7__cxx1112basic_...
  CHECK(failure_of([] { throw 42; }).type_name() == "int");
  CHECK(failure_of([] { throw std::vector<std::string>{}; }).type_name() ==
        "std::vector<std::string, std::allocator<std::string> >");
  const fk::failure described{"t", "shop::out_of_stock", "none left"};  // e.g. from a checkpoint
  CHECK_THROWS_WITH(described.rethrow(), "t failed with shop::out_of_stock: none left");
}
