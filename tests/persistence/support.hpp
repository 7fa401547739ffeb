#pragma once
// Test support for the persistence tests: runs, atom details and batches to commit.

#include "jobs/support.hpp"

#include <flowkit/persistence/lmdb_backend.hpp>
#include <flowkit/persistence/memory_backend.hpp>
#include <flowkit/persistence/serialization.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace flowkit::test {

inline run_spec spec_of(std::string id, std::string book = "book", std::string flow = "checkout",
                        std::uint64_t hash = 0x1234abcd5678ef90ull) {
  run_spec s;
  s.id = std::move(id);
  s.logbook = std::move(book);
  s.flow_name = std::move(flow);
  s.structure_hash = hash;
  serialize_to(s.store_bytes, std::string{"inputs of "} + s.id);
  return s;
}

// An atom that succeeded with value as its result.
inline atom_detail succeeded(std::string name, int value, std::uint32_t version = 1) {
  atom_detail a;
  a.name = std::move(name);
  a.state = atom_state::success;
  a.version = version;
  serialize_to(a.result.emplace<std::string>(), value);
  return a;
}

// An atom whose execute threw, then whose revert threw too.
inline atom_detail failed(std::string name) {
  atom_detail a;
  a.name = name;
  a.state = atom_state::revert_failure;
  a.intention = intention::revert;
  a.result = stored_failure{name, "std::runtime_error", "card declined"};
  a.revert_result = stored_failure{name, "refund_error", "bank offline"};
  return a;
}

inline int result_of(const atom_detail& a) {
  REQUIRE(a.result_bytes());
  return deserialize_from<int>(*a.result_bytes());
}

}  // namespace flowkit::test
