// The transition tables: exactly the transitions DESIGN and TaskFlow allow.
#include <flowkit/core/states.hpp>

#include <catch2/catch.hpp>

#include <set>
#include <utility>

namespace fk = flowkit;

TEST_CASE("the atom transition table holds exactly the legal transitions", "[engine][states]") {
  using enum fk::atom_state;
  const std::set<std::pair<fk::atom_state, fk::atom_state>> legal{
      {pending, running},      {pending, ignore},       {running, success},     {running, failure},
      {success, reverting},    {success, retrying},     {success, pending},     {failure, reverting},
      {failure, pending},      {reverting, reverted},   {reverting, revert_failure},
      {reverted, pending},     {revert_failure, reverting}, {revert_failure, pending},
      {ignore, pending},       {retrying, running},     {retrying, pending}};
  for (unsigned f = 0; f < fk::atom_state_count; ++f)
    for (unsigned t = 0; t < fk::atom_state_count; ++t) {
      const auto from = static_cast<fk::atom_state>(f), to = static_cast<fk::atom_state>(t);
      INFO(fk::to_string(from) << " -> " << fk::to_string(to));
      CHECK(fk::atom_transitions(from, to) == legal.count({from, to}));
    }
}

TEST_CASE("the flow transition table holds exactly the legal transitions", "[engine][states]") {
  using enum fk::flow_state;
  const std::set<std::pair<fk::flow_state, fk::flow_state>> legal{
      {pending, running},      {running, success},      {running, reverting},   {running, suspending},
      {running, failure},
      {reverting, reverted},   {reverting, failure},    {reverting, suspending}, {suspending, suspended},
      {suspending, success},   {suspending, reverted},  {suspending, failure},   {suspended, resuming},
      {suspended, pending},    {resuming, running},     {resuming, reverting},   {success, running},
      {success, pending},      {reverted, pending},     {failure, resuming},     {failure, pending}};
  for (unsigned f = 0; f < fk::flow_state_count; ++f)
    for (unsigned t = 0; t < fk::flow_state_count; ++t) {
      const auto from = static_cast<fk::flow_state>(f), to = static_cast<fk::flow_state>(t);
      INFO(fk::to_string(from) << " -> " << fk::to_string(to));
      CHECK(fk::flow_transitions(from, to) == legal.count({from, to}));
    }
}

TEST_CASE("an illegal transition names the thing and both states", "[engine][states]") {
  const fk::invalid_transition e{"atom 'x'", "PENDING", "SUCCESS"};
  CHECK(std::string(e.what()) == "flowkit: illegal transition of atom 'x' from PENDING to SUCCESS");
}
