// fk::serialisable: each kind of type it accepts and refuses, values of the accepted kinds that
// really round-trip, and the per-atom check the engine makes with a checkpoint backend.

#include <flowkit/flowkit.hpp>
#include <flowkit/persistence/serialisable.hpp>

#include <boost/serialization/split_free.hpp>
#include <boost/serialization/split_member.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <deque>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

namespace fk = flowkit;

namespace {

enum class colour : unsigned char { red, green };

struct no_serialize {
  int value = 0;
};

struct member {
  int value = 0;
  template <class Archive>
  void serialize(Archive& ar, const unsigned /*version*/) {
    ar& value;
  }
};

// Boost's tutorial style: a private serialize() that boost::serialization::access may call.
class private_member {
 public:
  private_member() = default;
  explicit private_member(std::string text) : text_(std::move(text)) {}
  const std::string& text() const { return text_; }

 private:
  friend class boost::serialization::access;
  template <class Archive>
  void serialize(Archive& ar, const unsigned /*version*/) {
    ar& text_;
  }
  std::string text_;
};

struct final_member final {
  int value = 0;
  template <class Archive>
  void serialize(Archive& ar, const unsigned /*version*/) {
    ar& value;
  }
};

struct member_save_load {
  int value = 0;
  template <class Archive>
  void save(Archive& ar, const unsigned /*version*/) const {
    ar& value;
  }
  template <class Archive>
  void load(Archive& ar, const unsigned /*version*/) {
    ar& value;
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()
};

struct opted_in {
  int value = 0;
};

}  // namespace

// A free serialize() found by argument-dependent lookup.
namespace geometry {
struct point {
  int x = 0, y = 0;
};
template <class Archive>
void serialize(Archive& ar, point& p, const unsigned /*version*/) {
  ar& p.x;
  ar& p.y;
}
}  // namespace geometry

// A free serialize() in boost::serialization, as Boost documents the non-intrusive way, and one
// split into save/load with BOOST_SERIALIZATION_SPLIT_FREE.
struct boost_free {
  int value = 0;
};
struct free_save_load {
  int value = 0;
};
namespace boost::serialization {
template <class Archive>
void serialize(Archive& ar, boost_free& b, const unsigned /*version*/) {
  ar& b.value;
}
template <class Archive>
void save(Archive& ar, const free_save_load& s, const unsigned /*version*/) {
  ar& s.value;
}
template <class Archive>
void load(Archive& ar, free_save_load& s, const unsigned /*version*/) {
  ar& s.value;
}
}  // namespace boost::serialization
BOOST_SERIALIZATION_SPLIT_FREE(free_save_load)

template <>
inline constexpr bool fk::enable_serialisable<opted_in> = true;

// Built in.
static_assert(fk::serialisable<int> && fk::serialisable<double> && fk::serialisable<bool> &&
              fk::serialisable<char>);
static_assert(fk::serialisable<colour>);
static_assert(fk::serialisable<const int>);
static_assert(fk::serialisable<std::monostate>);
static_assert(fk::serialisable<std::string>);
// Standard containers of serialisable elements.
static_assert(fk::serialisable<std::vector<int>> && fk::serialisable<std::vector<std::string>>);
static_assert(fk::serialisable<std::map<std::string, std::vector<int>>> &&
              fk::serialisable<std::multimap<int, int>>);
static_assert(fk::serialisable<std::pair<int, std::string>>);
static_assert(fk::serialisable<std::array<double, 3>>);
static_assert(fk::serialisable<std::set<std::string>> && fk::serialisable<std::multiset<int>>);
static_assert(fk::serialisable<std::list<int>> && fk::serialisable<std::deque<int>>);
static_assert(fk::serialisable<std::tuple<int, std::string>> && fk::serialisable<std::tuple<>>);
static_assert(fk::serialisable<decltype(fk::store<"order_id", "who">(42, "ann"))>);
// Classes that say how.
static_assert(fk::serialisable<member> && fk::serialisable<private_member> && fk::serialisable<final_member>);
static_assert(fk::serialisable<member_save_load>);
static_assert(fk::serialisable<geometry::point> && fk::serialisable<boost_free> &&
              fk::serialisable<free_save_load>);
static_assert(fk::serialisable<opted_in>);
static_assert(fk::serialisable<std::vector<geometry::point>> &&
              fk::serialisable<std::map<int, private_member>>);
// Refused: a class that does not say how, anything holding one, and what Boost 1.74 cannot write.
static_assert(!fk::serialisable<no_serialize>);
static_assert(!fk::serialisable<std::vector<no_serialize>>);
static_assert(!fk::serialisable<std::tuple<int, no_serialize>>);
static_assert(!fk::serialisable<std::map<std::string, no_serialize>> &&
              !fk::serialisable<std::map<no_serialize, int>>);
static_assert(!fk::serialisable<std::pair<no_serialize, int>> &&
              !fk::serialisable<std::array<no_serialize, 1>>);
static_assert(!fk::serialisable<decltype(fk::store<"doc">(no_serialize{}))>);
static_assert(!fk::serialisable<int*>);
static_assert(!fk::serialisable<std::optional<int>>);

namespace {

template <class T>
T round_trip(const T& value) {
  std::string bytes;
  fk::serialize_to(bytes, value);
  return fk::deserialize_from<T>(bytes);
}

}  // namespace

TEST_CASE("a std::tuple round-trips through serialize_to and deserialize_from",
          "[persistence][serialisable]") {
  const std::tuple<int, std::string> value{42, "forty-two"};
  CHECK(round_trip(value) == value);
  const std::vector<std::tuple<int, std::string>> many{{1, "one"}, {2, ""}, {-3, std::string(300, 'x')}};
  CHECK(round_trip(many) == many);
  CHECK(round_trip(std::tuple<>{}) == std::tuple<>{});
}

TEST_CASE("the classes serialisable accepts round-trip", "[persistence][serialisable]") {
  CHECK(round_trip(private_member{"kept"}).text() == "kept");
  CHECK(round_trip(member_save_load{7}).value == 7);
  CHECK(round_trip(final_member{8}).value == 8);
  const geometry::point p = round_trip(geometry::point{3, -4});
  CHECK(p.x == 3);
  CHECK(p.y == -4);
  CHECK(round_trip(boost_free{9}).value == 9);
  CHECK(round_trip(free_save_load{10}).value == 10);
  CHECK(round_trip(std::monostate{}) == std::monostate{});
}

TEST_CASE("outputs_serialisable finds the first atom and slot whose value cannot be stored",
          "[persistence][serialisable]") {
  auto fetch = fk::task<"fetch">(fk::outputs<"text">, [] { return std::string{"x"}; });
  auto log = fk::task<"log">(fk::inputs<"text">, [](const std::string&) {});
  auto parse = fk::task<"parse">(fk::inputs<"text">, fk::outputs<"title", "doc">, [](const std::string& t) {
    return std::tuple<std::string, no_serialize>{t, {}};
  });
  auto fine = fk::task<"fine">(fk::inputs<"text">, fk::outputs<"title", "point">, [](const std::string& t) {
    return std::tuple<std::string, geometry::point>{t, {}};
  });
  auto unnamed = fk::task<"unnamed">([] { return no_serialize{}; });

  // Void tasks store nothing; a tuple of outputs is checked output by output; a retry's value too.
  using good = decltype(fk::linear_flow<"good">(fetch, log, fine).retry(fk::times(2)));
  STATIC_REQUIRE(fk::detail::outputs_serialisable<good>());
  using reverts = decltype(fk::linear_flow<"reverts">(log).retry(fk::always_revert));
  STATIC_REQUIRE(fk::detail::outputs_serialisable<reverts>());

  using ingest = decltype(fk::linear_flow<"ingest">(fetch, log, parse));
  STATIC_REQUIRE_FALSE(fk::detail::outputs_serialisable<ingest>());
  constexpr auto doc = fk::detail::unserialisable_output_v<ingest>;
  STATIC_REQUIRE(doc.atom == 2);
  STATIC_REQUIRE(doc.output == 1);
  STATIC_REQUIRE(doc.slot == "doc");

  // The first offender only, in pre-order; a task that names no output stores its "result".
  using two = decltype(fk::linear_flow<"two">(fk::linear_flow<"inner">(unnamed), parse));
  constexpr auto first = fk::detail::unserialisable_output_v<two>;
  STATIC_REQUIRE(first.atom == 0);
  STATIC_REQUIRE(first.slot == "result");

  // A retry controller's value: its slot, or "value" when it provides none.
  using carrier =
      decltype(fk::linear_flow<"ship">(fetch).retry(fk::for_each<"carrier">(std::vector<no_serialize>{})));
  STATIC_REQUIRE(fk::detail::unserialisable_output_v<carrier>.atom == 0);
  STATIC_REQUIRE(fk::detail::unserialisable_output_v<carrier>.slot == "carrier");
  using value = decltype(fk::linear_flow<"ship">(fetch).retry(fk::for_each<"">(std::vector<no_serialize>{})));
  STATIC_REQUIRE(fk::detail::unserialisable_output_v<value>.slot == "value");
}
