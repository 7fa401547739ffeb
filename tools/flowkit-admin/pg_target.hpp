#pragma once
// A postgresql:// URL as flowkit-admin's PATH: the board and the checkpoint store in one schema
// of that database (--schema, default "flowkit"), each opened with must_exist so that nothing is
// ever created, and only when a command reads them. The commands are the LMDB ones (templates
// over what PATH names); `board stats` reports the server and schema instead of a file.

#include "admin_file.hpp"
#include "commands.hpp"
#include "output.hpp"

#include <flowkit/postgres.hpp>

#include <exception>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace flowkit::admin {

inline bool is_pg_url(std::string_view path) {
  return path.starts_with("postgresql://") || path.starts_with("postgres://");
}

// flowkit-admin's exit code for a PostgreSQL error, if e is one.
inline std::optional<exit_code> pg_code_of(const std::exception& e) {
  if (dynamic_cast<const pg_schema_too_new*>(&e)) return other_format;
  if (dynamic_cast<const pg_error*>(&e)) return storage_failed;  // unreachable, lost, refused by the server
  return std::nullopt;
}

class pg_target {
 public:
  pg_target(std::string url, std::string schema)
      : url_(std::move(url)), shown_(flowkit::detail::redact_url(url_)), schema_(std::move(schema)) {}

  // What messages name: the URL without its password, and the schema.
  const std::string& path() const noexcept { return shown_; }
  const std::string& schema() const noexcept { return schema_; }

  pg_jobboard& board() {
    if (pg_jobboard* b = board_if_present()) return *b;
    throw failure(nothing_there, concat("no jobboard at ", shown_, ": ", absent_));
  }
  pg_backend& store() {
    if (pg_backend* s = store_if_present()) return *s;
    throw failure(nothing_there, concat("no checkpoint store at ", shown_, ": ", absent_));
  }
  pg_jobboard* board_if_present() {
    if (!board_tried_) {
      board_tried_ = true;
      try {
        board_.emplace(url_, pg_jobboard_options{.schema = schema_, .must_exist = true});
      } catch (const board_not_found&) {
        absent_ = concat("no flowkit schema '", schema_, "' in that database");
      }
    }
    return board_ ? &*board_ : nullptr;
  }
  pg_backend* store_if_present() {
    if (!store_tried_) {
      store_tried_ = true;
      try {
        store_.emplace(url_, pg_options{.schema = schema_, .must_exist = true});
      } catch (const store_not_found&) {
        absent_ = concat("no flowkit schema '", schema_, "' in that database");
      }
    }
    return store_ ? &*store_ : nullptr;
  }

 private:
  std::string url_, shown_, schema_;
  bool board_tried_ = false, store_tried_ = false;
  std::optional<pg_jobboard> board_;
  std::optional<pg_backend> store_;
  std::string absent_;
};

// board stats on PostgreSQL: the server and schema, jobs by state, trash, runs.
inline int board_stats(pg_target& target, const output& o) {
  pg_jobboard& board = target.board();
  pg_backend& store = target.store();
  std::vector<job_event> corrupt;
  const listener_id listening = board.listen([&](const job_event& e) {
    if (e.kind == job_event_kind::corrupt) corrupt.push_back(e);
  });
  const std::vector<job> jobs = board.jobs();
  board.unlisten(listening);
  std::map<std::string, std::size_t> by_state{{"UNCLAIMED", 0}, {"CLAIMED", 0}};
  for (const job& j : jobs) ++by_state[std::string{to_string(j.state())}];
  const std::size_t trash = board.trashed().size();
  const std::vector<flow_detail> runs = store.runs();
  std::map<std::string, std::size_t> runs_by_state;
  for (const flow_detail& f : runs) ++runs_by_state[std::string{to_string(f.state)}];
  const std::size_t logbooks = store.logbooks().size();
  json records = json::array();  // as LMDB's board stats: each record that does not decode
  for (const job_event& e : corrupt) records.push_back(detail::corrupt_record_json(e.job.str(), e.detail));
  if (o.as_json) {
    json states = json::object();
    for (const auto& [state, n] : runs_by_state) states[state] = n;
    o.write(
        json{{"path", target.path()},
             {"server", {{"url", target.path()}, {"schema", target.schema()}}},
             {"board",
              {{"jobs", jobs.size() + corrupt.size()},
               {"by_state", {{"UNCLAIMED", by_state["UNCLAIMED"]}, {"CLAIMED", by_state["CLAIMED"]}}},
               {"trash", trash},
               {"corrupt", corrupt.size()},
               {"corrupt_records", std::move(records)}}},
             {"store", {{"runs", runs.size()}, {"logbooks", logbooks}, {"by_state", std::move(states)}}}});
    return success;
  }
  fields f;
  f.add("server", target.path());
  f.add("schema", target.schema());
  f.add("jobs",
        concat(std::to_string(jobs.size() + corrupt.size()), " (", std::to_string(by_state["UNCLAIMED"]),
               " unclaimed, ", std::to_string(by_state["CLAIMED"]), " claimed)"));
  f.add("trash", std::to_string(trash));
  f.add("corrupt records", std::to_string(corrupt.size()));
  std::string states;
  for (const auto& [state, n] : runs_by_state)
    states = concat(states, states.empty() ? "" : ", ", std::to_string(n), " ", state);
  f.add("runs",
        concat(std::to_string(runs.size()), states.empty() ? std::string{} : concat(" (", states, ")")));
  f.add("logbooks", std::to_string(logbooks));
  f.print(o.out);
  detail::print_corrupt_records(records, o.out);
  return success;
}

}  // namespace flowkit::admin
