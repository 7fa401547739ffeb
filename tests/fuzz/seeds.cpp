// Writes the fuzzers' seed corpus: a few valid records of each kind, made by flowkit's own
// encoders, so that no binary file is committed. Usage: flowkit-fuzz-seeds <dir>; writes
// <dir>/<target>/seed-<n> for every fuzz target.

#include "../common/job_record_v2.hpp"
#include "fuzz_support.hpp"

#include <flowkit/jobs/record_codec.hpp>
#include <flowkit/persistence/model.hpp>
#include <flowkit/persistence/persist.hpp>
#include <flowkit/persistence/record_codec.hpp>
#include <flowkit/persistence/serialization.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace fk = flowkit;
namespace fs = std::filesystem;

namespace {

void write_seeds(const fs::path& dir, const std::vector<std::string>& seeds) {
  fs::create_directories(dir);
  int n = 0;
  for (const std::string& s : seeds) {
    std::string name{"seed-"};
    name += std::to_string(n++);
    std::ofstream out{dir / name, std::ios::binary | std::ios::trunc};
    out.write(s.data(), static_cast<std::streamsize>(s.size()));
    if (!out) throw std::runtime_error("cannot write " + (dir / name).string());
  }
}

std::vector<std::string> atom_details() {
  std::vector<std::string> out;
  std::string rec;
  fk::atom_detail a;
  a.name = fk::fuzz::atom;
  fk::detail::ckpt::encode_atom_detail(a, rec);  // pending, no outcome
  out.push_back(rec);
  a.state = fk::atom_state::success;
  a.version = 3;
  fk::serialize_to(a.result.emplace<std::string>(), std::string{"receipt 42"});
  a.retry_history = "history";
  fk::detail::ckpt::encode_atom_detail(a, rec);
  out.push_back(rec);
  a.state = fk::atom_state::revert_failure;
  a.intention = fk::intention::revert;
  a.result = fk::stored_failure{"charge", "std::runtime_error", "card declined"};
  a.revert_result = fk::stored_failure{"charge", "refund_error", "bank offline"};
  fk::detail::ckpt::encode_atom_detail(a, rec);
  out.push_back(rec);
  return out;
}

std::vector<std::string> flow_details() {
  std::vector<std::string> out;
  std::string rec;
  fk::flow_detail f;
  f.id = fk::fuzz::run;
  f.logbook = "orders";
  f.flow_name = "checkout";
  f.structure_hash = 0x1234abcd5678ef90ull;
  f.created = f.updated = fk::run_time{std::chrono::seconds{1700000000}};
  fk::detail::ckpt::encode_flow_detail(f, rec);
  out.push_back(rec);
  f.state = fk::flow_state::running;
  fk::serialize_to(f.store_bytes, std::make_pair(42, std::string{"inputs"}));
  fk::detail::ckpt::encode_flow_detail(f, rec);
  out.push_back(rec);
  return out;
}

std::vector<std::string> job_records() {
  std::vector<std::string> out;
  std::string rec, entry;
  fk::detail::job_record r;
  r.id = fk::fuzz::fixed_job_id();
  r.name = "order 42";
  r.flow = "checkout";
  r.flow_detail = r.id.str();
  r.sequence = 7;
  r.created = fk::job_time{std::chrono::seconds{1700000000}};
  r.store_signature = fk::store_signature<fk::fuzz::job_store>();
  fk::serialize_to(r.store_bytes, fk::fuzz::job_store{std::in_place, 42, std::string{"note"},
                                                      std::vector<std::string>{"a", "b"},
                                                      std::map<std::string, int>{{"x", 1}}});
  fk::detail::encode_record(r, rec);  // unclaimed
  out.push_back(rec);
  r.owner = "worker-1";
  r.owner_id = "host/1234/00112233aabbccdd";
  r.expires = r.created + std::chrono::seconds{30};
  r.token = 1;
  r.priority = fk::job_priority::high;
  fk::detail::encode_record(r, rec);  // claimed
  out.push_back(rec);
  r.claimed = r.created + std::chrono::seconds{1};
  fk::detail::encode_record(r, rec);  // claimed, with the claim's time
  out.push_back(rec);
  fk::detail::encode_trash_entry(r, r.expires, r.owner, "poison", rec, entry);
  out.push_back(entry);
  out.emplace_back(fk::detail::id_key(r.id));
  out.push_back(fk::test::job_record_v2(r));  // version 2, claimed
  // A history of each kind, and a back-off.
  for (fk::attempt_end how : {fk::attempt_end::abandoned, fk::attempt_end::expired, fk::attempt_end::revoked})
    r.attempts.push_back(fk::job_attempt{r.token++, r.owner, r.owner_id, r.claimed, r.expires, how,
                                         how == fk::attempt_end::expired ? "" : "why"});
  fk::detail::encode_record(r, rec);  // claimed again, after three attempts
  out.push_back(rec);
  r.owner.clear();
  r.owner_id.clear();
  r.expires = r.claimed = {};
  r.not_before = r.created + std::chrono::seconds{90};
  fk::detail::encode_record(r, rec);  // abandoned, backing off
  out.push_back(rec);
  r = {};
  r.name = "v2";
  out.push_back(fk::test::job_record_v2(r));  // version 2, unclaimed
  return out;
}

std::vector<std::string> job_stores() {
  std::vector<std::string> out;
  std::string bytes;
  fk::serialize_to(bytes, fk::fuzz::job_store{});
  out.push_back(bytes);
  fk::serialize_to(bytes, fk::fuzz::job_store{std::in_place, 42, std::string{"a note"},
                                              std::vector<std::string>{"one", "two", "three"},
                                              std::map<std::string, int>{{"x", 1}, {"y", 2}}});
  out.push_back(bytes);
  return out;
}

// Each value prefixed by the byte that picks its decoder in fuzz_checkpoint_values.cpp.
std::vector<std::string> checkpoint_values() {
  std::vector<std::string> out;
  std::string bytes;
  fk::retry_history<int> ints{
      {1, {fk::failure{"pay", "std::runtime_error", "busy", fk::failure_phase::execute}}}, {2, {}}};
  fk::detail::encode_history(ints, bytes);
  out.push_back(std::string(1, '\0') + bytes);
  fk::retry_history<std::string> strings{{"eu-west", {}}};
  fk::detail::encode_history(strings, bytes);
  out.push_back(std::string(1, '\1') + bytes);
  fk::serialize_to(bytes, std::vector<int>{5, 15});
  out.push_back(std::string(1, '\2') + bytes);
  fk::serialize_to(bytes, std::tuple<std::string, std::map<std::string, int>>{"doc", {{"x", 1}}});
  out.push_back(std::string(1, '\3') + bytes);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <dir>\n", argv[0]);
    return 2;
  }
  try {
    const fs::path dir = argv[1];
    write_seeds(dir / "atom_detail", atom_details());
    write_seeds(dir / "flow_detail", flow_details());
    write_seeds(dir / "job_record", job_records());
    write_seeds(dir / "job_store", job_stores());
    write_seeds(dir / "checkpoint_values", checkpoint_values());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "flowkit-fuzz-seeds: %s\n", e.what());
    return 1;
  }
  return 0;
}
