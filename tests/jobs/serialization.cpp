// The Boost.Serialization glue: stores round-trip, buffers are reused, signatures tell types apart.

#include <flowkit/jobs/memory_jobboard.hpp>
#include <flowkit/persistence/serialization.hpp>

#include <boost/archive/archive_exception.hpp>
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace fk = flowkit;

TEST_CASE("stores round-trip through a binary archive", "[jobboard][serialization]") {
  const auto s = fk::store<"id", "tags", "limits", "note">(7, std::vector<std::string>{"a", "b"},
                                                           std::map<std::string, int>{{"x", 1}},
                                                           std::pair<double, std::string>{2.5, "p"});
  std::string buf;
  fk::serialize_to(buf, s);
  const auto back = fk::deserialize_from<std::remove_const_t<decltype(s)>>(buf);
  CHECK(back.get<"id">() == 7);
  CHECK(back.get<"tags">() == std::vector<std::string>{"a", "b"});
  CHECK(back.get<"limits">().at("x") == 1);
  CHECK(back.get<"note">().first == 2.5);
  CHECK(back.get<"note">().second == "p");

  const auto empty = fk::store<>();
  fk::serialize_to(buf, empty);
  CHECK_NOTHROW(fk::deserialize_from<std::remove_const_t<decltype(empty)>>(buf));
}

TEST_CASE("serialize_to reuses the caller's buffer", "[jobboard][serialization]") {
  std::string buf;
  buf.reserve(4096);
  const auto* data = buf.data();
  fk::serialize_to(buf, fk::store<"s">(std::string(100, 'x')));
  const std::size_t first = buf.size();
  fk::serialize_to(buf, fk::store<"s">(std::string(10, 'y')));
  CHECK(buf.size() < first);  // replaced, not appended
  CHECK(buf.data() == data);  // same allocation
}

TEST_CASE("store signatures name slots and types", "[jobboard][serialization]") {
  const std::string a = fk::store_signature<decltype(fk::store<"order_id">(0))>();
  const std::string b = fk::store_signature<decltype(fk::store<"order_id">(0L))>();
  const std::string c = fk::store_signature<decltype(fk::store<"order">(0))>();
  CHECK(a != b);
  CHECK(a != c);
  CHECK_THAT(a, Catch::StartsWith("order_id:"));
}

TEST_CASE("a store signature reads well in messages, and a store read as another type says so in words",
          "[jobboard][serialization]") {
  using text_store = decltype(fk::store<"id", "who">(0, "Lisbon"));  // a literal is kept as std::string
  const std::string sig = fk::store_signature<text_store>();
  CHECK(fk::readable_store_signature(sig) == "id:int,who:std::string");
  CHECK(fk::readable_store_signature("odd") == "odd");  // not a signature: left as it is
  CHECK(fk::readable_store_signature("") == "");

  fk::memory_jobboard board;
  const fk::job_id id = board.post("greet", "hello", fk::store<"who">("Lisbon"));
  const fk::job j = board.get(id);
  CHECK(j.store<decltype(fk::store<"who">(std::string{}))>().get<"who">() == "Lisbon");
  try {
    (void)j.store<decltype(fk::store<"who">(0))>();
    FAIL("a store read as another type must throw");
  } catch (const fk::store_type_mismatch& e) {
    const std::string what = e.what();
    CHECK_THAT(what, Catch::Contains("{who:std::string}") && Catch::Contains("{who:int}"));
    CHECK_THAT(what, !Catch::Contains("NSt7"));
  }
}

// Found by tests/fuzz/fuzz_job_store.cpp: Boost's binary archive resized a string or collection
// to the length in the bytes before reading it, so damaged bytes asked for up to 2^64 bytes
// (ASan: allocation-size-too-big; without it a bad_alloc, or gigabytes of empty elements).
TEST_CASE("a length larger than the bytes left is refused before anything is allocated",
          "[jobboard][serialization]") {
  std::string bytes;
  fk::serialize_to(bytes, std::string{"abc"});
  REQUIRE(bytes.size() == 8 + 3);
  bytes[7] = '\x05';  // the length's top byte: 0x05000000'00000003 bytes
  CHECK_THROWS_AS(fk::deserialize_from<std::string>(bytes), boost::archive::archive_exception);
  bytes[7] = '\0';
  bytes[0] = '\x04';  // one byte more than the 3 that follow
  CHECK_THROWS_AS(fk::deserialize_from<std::string>(bytes), boost::archive::archive_exception);
  bytes[0] = '\x03';
  CHECK(fk::deserialize_from<std::string>(bytes) == "abc");

  std::string many;
  fk::serialize_to(many, std::vector<std::string>{"a", "b"});
  std::string huge = many;
  huge[5 + 5] = '\x01';  // the element count (after 5 bytes of class information): 2 + 2^40
  CHECK_THROWS_AS(fk::deserialize_from<std::vector<std::string>>(huge), boost::archive::archive_exception);
  CHECK(fk::deserialize_from<std::vector<std::string>>(many) == std::vector<std::string>{"a", "b"});

  // The fuzzer's input, read as the job's store: corrupt_job, not a crash.
  using S = decltype(fk::store<"order_id", "note", "items", "counts">(
      0, std::string{}, std::vector<std::string>{}, std::map<std::string, int>{}));
  fk::detail::job_record r;
  r.store_signature = fk::store_signature<S>();
  r.store_bytes.assign("\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x05", 17);
  r.store_bytes.append(8, '\0');
  r.store_bytes.append(68, 'O');
  r.store_bytes.append(26, '\0');
  const fk::job j = fk::detail::job_access::make_job(std::move(r), {});
  CHECK_THROWS_AS(j.store<S>(), fk::corrupt_job);
}
