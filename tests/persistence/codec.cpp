// The checkpoint record codecs: round trips, and every damaged record refused naming its run and
// atom, without reading outside it (run these under ASan to see the latter).

#include "support.hpp"

#include <flowkit/persistence/record_codec.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace fk = flowkit;
namespace ckpt = fk::detail::ckpt;

namespace {

std::vector<fk::atom_detail> sample_atoms() {
  std::vector<fk::atom_detail> out;
  fk::atom_detail pending;
  pending.name = "pending";
  out.push_back(pending);
  out.push_back(fk::test::succeeded("fetch", 42, 7));
  out.push_back(fk::test::failed("charge"));
  fk::atom_detail mixed = fk::test::succeeded("ship", 1);
  mixed.state = fk::atom_state::reverted;
  mixed.intention = fk::intention::ignore;
  mixed.revert_result = std::string(300, '\x7f');
  mixed.retry_history = std::string("\0history\0", 9);
  mixed.version = 0xffffffffu;
  out.push_back(mixed);
  return out;
}

fk::flow_detail sample_flow() {
  fk::flow_detail f;
  f.id = "run-1";
  f.logbook = "orders";
  f.flow_name = "checkout";
  f.structure_hash = 0xfedcba9876543210ull;
  f.store_bytes = std::string("\x01\x02\0\x03", 4);
  f.state = fk::flow_state::suspended;
  f.created = fk::run_clock::now();
  f.updated = f.created + std::chrono::seconds{5};
  return f;
}

template <class Decode>
void check_refused(const std::string& rec, const Decode& decode, const std::string& atom) {
  try {
    decode(rec);
    FAIL("a damaged record decoded");
  } catch (const fk::corrupt_record& e) {
    CHECK(e.run() == "run-1");
    CHECK(e.atom() == atom);
    CHECK_THAT(e.what(), Catch::Contains("'run-1'"));
    if (!atom.empty()) CHECK_THAT(e.what(), Catch::Contains("'" + atom + "'"));
  }
}

}  // namespace

TEST_CASE("atom and flow details survive encoding and decoding", "[persistence][codec]") {
  std::string buf;
  fk::atom_detail into;  // reused across decodes, as a backend would
  for (const fk::atom_detail& a : sample_atoms()) {
    ckpt::encode_atom_detail(a, buf);
    CHECK(ckpt::decode_atom_detail("run-1", a.name, buf) == a);
    ckpt::decode_atom_detail("run-1", a.name, buf, into);
    CHECK(into == a);
  }
  const fk::flow_detail f = sample_flow();
  ckpt::encode_flow_detail(f, buf);
  CHECK(ckpt::decode_flow_detail("run-1", buf) == f);

  std::string restamped;
  const fk::run_time later = f.updated + std::chrono::seconds{1};
  ckpt::restamp_flow_detail("run-1", buf, fk::flow_state::running, later, restamped);
  fk::flow_detail g = f;
  g.state = fk::flow_state::running;
  g.updated = later;
  CHECK(ckpt::decode_flow_detail("run-1", restamped) == g);
  ckpt::restamp_flow_detail("run-1", buf, std::nullopt, later, restamped);
  g.state = f.state;
  CHECK(ckpt::decode_flow_detail("run-1", restamped) == g);
}

TEST_CASE("every truncation and every flipped bit of a record is refused naming run and atom",
          "[persistence][codec]") {
  std::string rec;
  for (const fk::atom_detail& a : sample_atoms()) {
    ckpt::encode_atom_detail(a, rec);
    const auto decode = [&](const std::string& bytes) {
      (void)ckpt::decode_atom_detail("run-1", a.name, bytes);
    };
    for (std::size_t n = 0; n < rec.size(); ++n) check_refused(rec.substr(0, n), decode, a.name);
    check_refused(rec + '\0', decode, a.name);
    for (std::size_t bit = 0; bit < rec.size() * 8; ++bit) {
      std::string bad = rec;
      bad[bit / 8] = static_cast<char>(bad[bit / 8] ^ (1 << (bit % 8)));
      check_refused(bad, decode, a.name);
    }
  }
  ckpt::encode_flow_detail(sample_flow(), rec);
  const auto decode = [&](const std::string& bytes) { (void)ckpt::decode_flow_detail("run-1", bytes); };
  for (std::size_t n = 0; n < rec.size(); ++n) check_refused(rec.substr(0, n), decode, "");
  for (std::size_t bit = 0; bit < rec.size() * 8; ++bit) {
    std::string bad = rec;
    bad[bit / 8] = static_cast<char>(bad[bit / 8] ^ (1 << (bit % 8)));
    check_refused(bad, decode, "");
  }
  std::string out;
  check_refused(
      rec.substr(0, 20),
      [&](const std::string& bytes) { ckpt::restamp_flow_detail("run-1", bytes, std::nullopt, {}, out); },
      "");
}

TEST_CASE("records with a valid checksum and bad contents are refused", "[persistence][codec]") {
  std::string rec;
  const fk::atom_detail a = fk::test::succeeded("fetch", 42);
  const auto decode = [&](const std::string& bytes) {
    (void)ckpt::decode_atom_detail("run-1", "fetch", bytes);
  };
  ckpt::encode_atom_detail(a, rec);
  auto resealed = [&](auto change) {
    std::string bad = rec;
    change(bad);
    ckpt::seal(bad);
    return bad;
  };
  check_refused(resealed([](std::string& r) { r[0] = 2; }), decode, "fetch");  // a newer record
  check_refused(resealed([](std::string& r) { r[1] = fk::atom_state_count; }), decode, "fetch");  // state
  check_refused(resealed([](std::string& r) { r[2] = fk::intention_count; }), decode, "fetch");   // intention
  check_refused(resealed([](std::string& r) { r[3] = 3; }), decode, "fetch");     // result kind
  check_refused(resealed([](std::string& r) { r[3] = 0x10; }), decode, "fetch");  // spare bits
  // A length that points past the end, the largest one included.
  check_refused(resealed([](std::string& r) { ckpt::set_le(r, 12, 0xffffffffu, 4); }), decode, "fetch");
  check_refused(resealed([&](std::string& r) { ckpt::set_le(r, 12, r.size(), 4); }), decode, "fetch");
  // A result kind that says "failure" over bytes that hold a result.
  check_refused(resealed([](std::string& r) { r[3] = 2; }), decode, "fetch");
}

TEST_CASE("random bytes never decode into out-of-bounds reads", "[persistence][codec]") {
  // Random records with a valid frame (version, checksum) so the field parser itself is reached.
  std::mt19937_64 rng{20240611};
  std::string rec;
  int decoded = 0, refused = 0;
  for (int i = 0; i < 20000; ++i) {
    rec.assign(rng() % 64, '\0');
    for (char& c : rec) c = static_cast<char>(rng() % 4 == 0 ? rng() : rng() % 8);
    if (rec.size() >= 8) {
      rec[0] = 1;
      ckpt::seal(rec);
    }
    try {
      (void)ckpt::decode_atom_detail("run-1", "x", rec);
      ++decoded;
    } catch (const fk::corrupt_record& e) {
      ++refused;
      CHECK(e.atom() == "x");
    }
    try {
      (void)ckpt::decode_flow_detail("run-1", rec);
      ++decoded;
    } catch (const fk::corrupt_record&) {
      ++refused;
    }
  }
  CHECK(decoded + refused == 40000);
  CHECK(refused > 0);
}

TEST_CASE("atom keys group a run's atoms under one prefix and split back", "[persistence][codec]") {
  std::string k1, k11, p1;
  ckpt::atom_key("r1", "a", k1);
  ckpt::atom_key("r11", "a", k11);
  ckpt::run_prefix("r1", p1);
  CHECK(k1.starts_with(p1));
  CHECK_FALSE(k11.starts_with(p1));  // the length byte keeps r11's atoms out of r1's range
  const auto parts = ckpt::split_key(k11);
  REQUIRE(parts);
  CHECK(parts->first == "r11");
  CHECK(parts->second == "a");
  CHECK_FALSE(ckpt::split_key(""));
  CHECK_FALSE(ckpt::split_key(std::string{"\x05r1", 3}));
  CHECK_FALSE(ckpt::split_key(std::string{"\0r1", 3}));
}

TEST_CASE("arrays of plain values read back as binary_oarchive wrote them", "[persistence][codec]") {
  // binary_oarchive writes a std::vector<int> as one block; an archive that read it element by
  // element expected an item version first and failed on every such result.
  std::string bytes;
  fk::serialize_to(bytes, std::vector<int>{5, 15, -2});
  CHECK(fk::deserialize_from<std::vector<int>>(bytes) == std::vector<int>{5, 15, -2});
  fk::serialize_to(bytes, std::vector<double>{0.5});
  CHECK(fk::deserialize_from<std::vector<double>>(bytes) == std::vector<double>{0.5});
  // A count larger than the bytes that follow is refused before anything is allocated.
  bytes.assign("\xff\xff\xff\xff\xff\xff\x00\x00\x01\x00\x00\x00", 12);
  CHECK_THROWS_AS(fk::deserialize_from<std::vector<int>>(bytes), boost::archive::archive_exception);
}
