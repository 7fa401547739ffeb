#pragma once
// flowkit-admin's commands. Each reads (or changes) what admin_file opened and writes either a
// table for people or, with --json, one JSON document whose field names docs/admin.md fixes.
// Failures are thrown (admin_file.hpp's `failure`, or the library's errors) and reported by main.

#include "admin_file.hpp"
#include "output.hpp"

#include <flowkit/lmdb.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <lmdb.h>
#include <sys/stat.h>
#include <unistd.h>

namespace flowkit::admin {

// Objects keep their fields in the order written: documents read as docs/admin.md lists them.
using json = nlohmann::ordered_json;

struct output {
  std::ostream& out;
  std::ostream& err;  // warnings that do not stop the command
  bool as_json = false;

  // Names are free text: bytes that are not UTF-8 are written as U+FFFD, not refused.
  void write(const json& doc) const {
    out << doc.dump(2, ' ', false, json::error_handler_t::replace) << '\n';
  }
};

namespace detail {

// A time, or null when there is none; the epoch is a time the record does not know (a claim made
// before the board kept claim times).
inline json time_or_null(const std::optional<time_point>& t) {
  return t && *t != time_point{} ? json(iso_time(*t)) : json(nullptr);
}

// A job's attempts: the claims that ended without completing it, oldest first.
inline json attempts_json(const job& j) {
  json out = json::array();
  for (const job_attempt& a : j.attempts())
    out.push_back(json{{"token", a.token},
                       {"owner", a.owner},
                       {"identity", a.identity},
                       {"claimed", time_or_null(a.claimed)},
                       {"ended", iso_time(a.ended)},
                       {"how", to_string(a.how)},
                       {"reason", a.reason}});
  return out;
}

inline json failure_json(const stored_failure* f) {
  if (!f) return nullptr;
  return json{{"atom", f->atom}, {"type", f->type_name}, {"message", f->what}};
}

inline json bytes_or_null(const std::string* bytes) { return bytes ? json(bytes->size()) : json(nullptr); }

inline std::string bytes_text(std::size_t n) {
  return concat(std::to_string(n), n == 1 ? " byte" : " bytes");
}

// A file's size for people: "86016 bytes (84 KiB)".
inline std::string size_text(std::uint64_t n) {
  constexpr const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  if (n < 1024) return bytes_text(n);
  double scaled = static_cast<double>(n) / 1024;
  std::size_t unit = 0;
  for (; scaled >= 1024 && unit + 1 < std::size(units); ++unit) scaled /= 1024;
  char amount[32];
  std::snprintf(amount, sizeof amount, scaled < 10 ? "%.1f" : "%.0f", scaled);
  return concat(bytes_text(n), " (", amount, " ", units[unit], ")");
}

// A job as `jobs list` gives it.
inline json job_summary(const job& j) {
  return json{{"id", j.id().str()},
              {"name", j.name()},
              {"flow", j.flow()},
              {"flow_detail", j.flow_detail()},
              {"priority", to_string(j.priority())},
              {"state", to_string(j.state())},
              {"owner", j.owner() ? json(*j.owner()) : json(nullptr)},
              {"claimed", time_or_null(j.claimed())},
              {"expires", time_or_null(j.expires())},
              {"not_before", time_or_null(j.not_before())},
              {"token", j.token()},
              {"created", iso_time(j.created())}};
}

// Who trashed a job, when and why.
inline json trashed_json(const trashed_job& t) {
  return json{{"when", iso_time(t.when)}, {"by", t.by}, {"reason", t.reason}};
}

// A job in the trash, as `trash list` gives it: the job, and who trashed it, when and why.
inline json trash_entry_json(const trashed_job& t) {
  json entry = job_summary(t.job);
  entry["trashed"] = trashed_json(t);
  return entry;
}

inline std::string owner_text(const job& j) { return j.owner().value_or("-"); }

// Until when the job's state holds: a claim's expiry, or the end of a back-off.
inline std::string until_text(const job& j, time_point now) {
  if (j.expires()) return relative_time(*j.expires(), now);
  if (j.not_before()) return concat("not before: ", relative_time(*j.not_before(), now));
  return "-";
}

// The run a job checkpoints to, when the store on the same path has it. A store that cannot be
// read does not hide the job: it is reported on o.err and the run is null.
inline json run_link(const job& j, auto& file, std::ostream& err) {
  const std::string& id = j.flow_detail();
  if (id.empty() || id.size() > max_run_id_size) return nullptr;  // no run can have that id
  try {
    auto* store = file.store_if_present();
    if (!store) return nullptr;
    const std::optional<run_record> r = store->load_run(id);
    if (!r) return nullptr;
    return json{{"id", r->flow.id},
                {"logbook", r->flow.logbook},
                {"state", to_string(r->flow.state)},
                {"updated", iso_time(r->flow.updated)},
                {"atoms", r->atoms.size()}};
  } catch (const storage_error& e) {
    err << "flowkit-admin: warning: the job's run is not shown: " << one_line(e.what()) << '\n';
    return nullptr;
  }
}

// What the data file's newest meta page records: its page size, map size and last page in use.
// Read from the file, not from this process's LMDB environment, whose map may be larger than the
// file's record (the map size set at open) or smaller (grown since by another process).
struct file_facts {
  std::uint64_t size = 0, page_size = 0, map_size = 0, used = 0;
};

inline file_facts read_file_facts(const std::string& data_file) {
  namespace meta = flowkit::detail::lmdb_meta;
  file_facts facts;
  const int fd = ::open(data_file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) flowkit::detail::throw_io(errno, data_file, "open");
  struct stat st {};
  std::array<char, meta::bytes> first{}, second{};
  const bool read_ok = ::fstat(fd, &st) == 0 &&
                       ::pread(fd, first.data(), first.size(), 0) == static_cast<ssize_t>(meta::bytes);
  const int err = read_ok ? 0 : errno;
  facts.size = static_cast<std::uint64_t>(st.st_size);
  facts.page_size = read_ok ? meta::word(first, meta::page_size_at, 4) : 0;
  const bool has_second = read_ok && meta::valid_page_size(facts.page_size) &&
                          ::pread(fd, second.data(), second.size(), static_cast<off_t>(facts.page_size)) ==
                              static_cast<ssize_t>(meta::bytes) &&
                          meta::word(second, meta::magic_at, 4) == meta::magic;
  ::close(fd);
  if (!read_ok) flowkit::detail::throw_io(err, data_file, "read");
  // LMDB uses the meta page with the higher transaction id.
  const auto& newest =
      has_second && meta::word(second, meta::txnid_at, 8) > meta::word(first, meta::txnid_at, 8) ? second
                                                                                                 : first;
  facts.map_size = meta::word(newest, meta::map_size_at, 8);
  facts.used = (meta::word(newest, meta::last_page_at, 8) + 1) * facts.page_size;
  return facts;
}

// A job record that does not decode, as --json shows it (jobs list, board stats): its id and
// the error, on one line.
inline json corrupt_record_json(std::string_view id, std::string_view error) {
  return json{{"id", id}, {"error", one_line(error)}};
}

// board stats' table ends with a line per record that does not decode.
inline void print_corrupt_records(const json& records, std::ostream& out) {
  for (const auto& rec : records) out << "corrupt: " << rec["error"].get<std::string>() << '\n';
}

}  // namespace detail

// jobs list: every job on the board, in the board's order (priority, then oldest).
inline int jobs_list(auto& file, const output& o) {
  auto& board = file.board();
  std::vector<job_event> corrupt;  // records the listing skips
  const listener_id listening = board.listen([&](const job_event& e) {
    if (e.kind == job_event_kind::corrupt) corrupt.push_back(e);
  });
  const std::vector<job> jobs = board.jobs();
  board.unlisten(listening);
  if (o.as_json) {
    json doc{{"jobs", json::array()}, {"corrupt", json::array()}};
    for (const job& j : jobs) doc["jobs"].push_back(detail::job_summary(j));
    for (const job_event& e : corrupt)
      doc["corrupt"].push_back(detail::corrupt_record_json(e.job.str(), e.detail));
    o.write(doc);
    return success;
  }
  const time_point now = board.clock().now();
  table t{{"ID", "NAME", "FLOW", "PRIORITY", "STATE", "OWNER", "UNTIL", "TOKEN"}};
  for (const job& j : jobs)
    t.add({j.id().str(), j.name(), j.flow(), std::string{to_string(j.priority())},
           std::string{to_string(j.state())}, detail::owner_text(j), detail::until_text(j, now),
           std::to_string(j.token())});
  if (t.empty())
    o.out << "no jobs on the board\n";
  else
    t.print(o.out);
  for (const job_event& e : corrupt)
    o.out << "corrupt, not listed: " << e.job.str() << ": " << one_line(e.detail) << '\n';
  return success;
}

// jobs show ID: everything the board holds about one job (or, once trashed, what the trash
// holds), and the run it checkpoints to when the store on the same path has it.
inline int jobs_show(auto& file, const job_id& id, const output& o) {
  auto& board = file.board();
  std::optional<job> found = board.find(id);
  std::optional<trashed_job> in_trash;
  if (!found) {
    for (trashed_job& t : board.trashed())
      if (t.job.id() == id) in_trash = std::move(t);
    if (!in_trash)
      throw failure(not_found,
                    concat("no job ", id.str(), " on the board at ", file.path(), " or in its trash"));
    found = in_trash->job;
  }
  const job& j = *found;
  const json run = detail::run_link(j, file, o.err);
  const std::string signature = readable_store_signature(j.store_signature());
  if (o.as_json) {
    json doc = detail::job_summary(j);
    doc["owner_identity"] = j.owner_identity() ? json(*j.owner_identity()) : json(nullptr);
    doc["store"] = {
        {"signature", signature}, {"signature_raw", j.store_signature()}, {"bytes", j.store_bytes().size()}};
    doc["trashed"] = in_trash ? detail::trashed_json(*in_trash) : json(nullptr);
    doc["run"] = run;
    doc["attempts"] = detail::attempts_json(j);
    o.write(json{{"job", doc}});
    return success;
  }
  const time_point now = board.clock().now();
  fields f;
  f.add("id", j.id().str());
  f.add("name", j.name());
  f.add("flow", j.flow());
  f.add("priority", std::string{to_string(j.priority())});
  f.add("state", std::string{to_string(j.state())});
  if (j.owner()) f.add("owner", concat(*j.owner(), " (process ", j.owner_identity().value_or("?"), ")"));
  if (j.claimed() && *j.claimed() != time_point{}) f.add("claimed", readable_time(*j.claimed(), now));
  if (j.expires()) f.add("expires", readable_time(*j.expires(), now));
  if (j.not_before()) f.add("not before", concat(readable_time(*j.not_before(), now), " (backing off)"));
  f.add("token", std::to_string(j.token()));
  f.add("created", readable_time(j.created(), now));
  f.add("store", concat("{", signature, "}, ", detail::bytes_text(j.store_bytes().size())));
  if (in_trash) {
    f.add("trashed", concat(readable_time(in_trash->when, now), " by ", in_trash->by));
    f.add("reason", in_trash->reason);
  }
  f.add("flow detail", j.flow_detail());
  f.add("run", run.is_null()
                   ? std::string{"-"}
                   : concat(run["state"].get<std::string>(), ", logbook ", run["logbook"].get<std::string>(),
                            " (runs show ", j.flow_detail(), ")"));
  f.add("attempts", j.attempts().empty() ? std::string{"none"}
                                         : concat(std::to_string(j.attempts().size()), ", oldest first:"));
  f.print(o.out);
  if (!j.attempts().empty()) {
    table t{{"TOKEN", "OWNER", "CLAIMED", "ENDED", "HOW", "REASON"}};
    for (const job_attempt& a : j.attempts())
      t.add({std::to_string(a.token), a.owner,
             a.claimed == time_point{} ? std::string{"?"} : readable_time(a.claimed), readable_time(a.ended),
             std::string{to_string(a.how)}, a.reason.empty() ? std::string{"-"} : a.reason});
    t.print(o.out);
  }
  return success;
}

// trash list: the trashed jobs, oldest first.
inline int trash_list(auto& file, const output& o) {
  auto& board = file.board();
  const std::vector<trashed_job> trash = board.trashed();
  if (o.as_json) {
    json doc{{"trash", json::array()}};
    for (const trashed_job& t : trash) {
      doc["trash"].push_back(detail::trash_entry_json(t));
    }
    o.write(doc);
    return success;
  }
  const time_point now = board.clock().now();
  table t{{"ID", "NAME", "FLOW", "TRASHED", "BY", "REASON"}};
  for (const trashed_job& e : trash)
    t.add({e.job.id().str(), e.job.name(), e.job.flow(), readable_time(e.when, now), e.by, e.reason});
  if (t.empty())
    o.out << "the trash is empty\n";
  else
    t.print(o.out);
  return success;
}

// runs list [--logbook B]: the runs (flow details), by run id.
inline int runs_list(auto& file, const std::optional<std::string>& logbook, const output& o) {
  auto& store = file.store();
  const std::vector<flow_detail> runs = logbook ? store.runs(*logbook) : store.runs();
  struct counted {
    std::optional<std::size_t> atoms;
    std::string problem;  // why the atoms could not be counted
  };
  std::vector<counted> counts;
  for (const flow_detail& f : runs) {
    counted& c = counts.emplace_back();
    try {
      if (const auto r = store.load_run(f.id)) c.atoms = r->atoms.size();
    } catch (const corrupt_record& e) {
      c.problem = one_line(e.what());
    }
  }
  if (o.as_json) {
    json doc{{"runs", json::array()}};
    for (std::size_t i = 0; i < runs.size(); ++i) {
      const flow_detail& f = runs[i];
      doc["runs"].push_back(
          json{{"id", f.id},
               {"logbook", f.logbook},
               {"flow", f.flow_name},
               {"state", to_string(f.state)},
               {"created", iso_time(f.created)},
               {"updated", iso_time(f.updated)},
               {"atoms", counts[i].atoms ? json(*counts[i].atoms) : json(nullptr)},
               {"problem", counts[i].problem.empty() ? json(nullptr) : json(counts[i].problem)}});
    }
    o.write(doc);
    return success;
  }
  const time_point now = std::chrono::system_clock::now();
  table t{{"RUN", "LOGBOOK", "FLOW", "STATE", "UPDATED", "ATOMS"}};
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const flow_detail& f = runs[i];
    t.add({f.id, f.logbook, f.flow_name, std::string{to_string(f.state)}, readable_time(f.updated, now),
           counts[i].atoms ? std::to_string(*counts[i].atoms) : std::string{"?"}});
  }
  if (t.empty())
    o.out << (logbook ? concat("no runs in logbook ", *logbook) : std::string{"no runs in the store"})
          << '\n';
  else
    t.print(o.out);
  for (std::size_t i = 0; i < runs.size(); ++i)
    if (!counts[i].problem.empty()) o.out << "damaged: " << counts[i].problem << '\n';
  return success;
}

// runs show ID: the run, then each atom that has a record.
inline int runs_show(auto& file, const std::string& id, const output& o) {
  auto& store = file.store();
  const std::optional<run_record> r = store.load_run(id);
  if (!r) throw failure(not_found, concat("no run '", id, "' in the checkpoint store at ", file.path()));
  const flow_detail& f = r->flow;
  if (o.as_json) {
    json atoms = json::array();
    for (const atom_detail& a : r->atoms) {
      const std::optional<std::size_t> attempts = flowkit::detail::retry_history_attempts(a.retry_history);
      atoms.push_back(json{{"name", a.name},
                           {"state", to_string(a.state)},
                           {"intention", to_string(a.intention)},
                           {"version", a.version},
                           {"result_bytes", detail::bytes_or_null(a.result_bytes())},
                           {"failure", detail::failure_json(a.failure())},
                           {"revert_result_bytes", detail::bytes_or_null(a.revert_bytes())},
                           {"revert_failure", detail::failure_json(a.revert_failure())},
                           {"retry_history_bytes", a.retry_history.size()},
                           {"retry_attempts", attempts ? json(*attempts) : json(nullptr)}});
    }
    o.write(json{{"run",
                  {{"id", f.id},
                   {"logbook", f.logbook},
                   {"flow", f.flow_name},
                   {"structure_hash", flowkit::detail::hex64(f.structure_hash)},
                   {"state", to_string(f.state)},
                   {"created", iso_time(f.created)},
                   {"updated", iso_time(f.updated)},
                   {"store_bytes", f.store_bytes.size()},
                   {"atoms", r->atoms.size()}}},
                 {"atoms", std::move(atoms)}});
    return success;
  }
  const time_point now = std::chrono::system_clock::now();
  fields head;
  head.add("run", f.id);
  head.add("logbook", f.logbook);
  head.add("flow", concat(f.flow_name, " (structure ", flowkit::detail::hex64(f.structure_hash), ")"));
  head.add("state", std::string{to_string(f.state)});
  head.add("created", readable_time(f.created, now));
  head.add("updated", readable_time(f.updated, now));
  head.add("inputs", detail::bytes_text(f.store_bytes.size()));
  head.print(o.out);
  o.out << '\n';
  if (r->atoms.empty()) {
    o.out << "no atom has a record yet (every atom is PENDING)\n";
    return success;
  }
  const auto failure_text = [](const stored_failure* e, std::string_view phase) {
    return e ? concat(phase, e->type_name, ": ", e->what) : std::string{};
  };
  table t{{"ATOM", "STATE", "INTENTION", "RESULT", "RETRIES", "FAILURE"}};
  for (const atom_detail& a : r->atoms) {
    const std::optional<std::size_t> attempts = flowkit::detail::retry_history_attempts(a.retry_history);
    std::string failures = failure_text(a.failure(), "");
    if (const stored_failure* rf = a.revert_failure())
      failures = concat(failures, failures.empty() ? "" : "; ", failure_text(rf, "revert: "));
    t.add({a.name, std::string{to_string(a.state)}, std::string{to_string(a.intention)},
           a.result_bytes() ? detail::bytes_text(a.result_bytes()->size()) : std::string{"-"},
           attempts ? std::to_string(*attempts) : std::string{"-"},
           failures.empty() ? std::string{"-"} : failures});
  }
  t.print(o.out);
  return success;
}

// board stats: what the path holds, counted.
inline int board_stats(admin_file& file, const output& o) {
  file.require_any();
  lmdb_jobboard* board = file.board_if_present();
  lmdb_backend* store = file.store_if_present();
  const auto& env = board ? board->environment() : store->environment();
  const detail::file_facts facts = detail::read_file_facts(env->path());

  json board_doc = nullptr, store_doc = nullptr;
  if (board) {
    std::map<std::string, std::size_t> by_state{{"UNCLAIMED", 0}, {"CLAIMED", 0}};
    for (const job& j : board->jobs()) ++by_state[std::string{to_string(j.state())}];
    const std::vector<corrupt_job> corrupt = board->check();
    json records = json::array();
    for (const corrupt_job& e : corrupt) records.push_back(detail::corrupt_record_json(e.job_id(), e.what()));
    board_doc = json{{"jobs", board->size()},
                     {"by_state", {{"UNCLAIMED", by_state["UNCLAIMED"]}, {"CLAIMED", by_state["CLAIMED"]}}},
                     {"trash", board->trashed().size()},
                     {"corrupt", corrupt.size()},
                     {"corrupt_records", std::move(records)}};
  }
  if (store) {
    std::map<std::string, std::size_t> by_state;
    const std::vector<flow_detail> runs = store->runs();
    for (const flow_detail& f : runs) ++by_state[std::string{to_string(f.state)}];
    json states = json::object();
    for (const auto& [state, n] : by_state) states[state] = n;
    store_doc =
        json{{"runs", runs.size()}, {"logbooks", store->logbooks().size()}, {"by_state", std::move(states)}};
  }
  if (o.as_json) {
    o.write(json{{"path", file.path()},
                 {"file",
                  {{"data_file", env->path()},
                   {"size", facts.size},
                   {"used", facts.used},
                   {"map_size", facts.map_size},
                   {"page_size", facts.page_size}}},
                 {"board", board_doc},
                 {"store", store_doc}});
    return success;
  }
  fields f;
  f.add("data file", env->path());
  f.add("file size", detail::size_text(facts.size));
  f.add("in use", detail::size_text(facts.used));
  f.add("map size", detail::size_text(facts.map_size));
  if (board) {
    f.add("jobs",
          concat(std::to_string(board_doc["jobs"].get<std::size_t>()), " (",
                 std::to_string(board_doc["by_state"]["UNCLAIMED"].get<std::size_t>()), " unclaimed, ",
                 std::to_string(board_doc["by_state"]["CLAIMED"].get<std::size_t>()), " claimed)"));
    f.add("trash", std::to_string(board_doc["trash"].get<std::size_t>()));
    f.add("corrupt records", std::to_string(board_doc["corrupt"].get<std::size_t>()));
  } else {
    f.add("jobs", "- (no jobboard in this file)");
  }
  if (store) {
    std::string states;
    for (const auto& [state, n] : store_doc["by_state"].items())
      states = concat(states, states.empty() ? "" : ", ", std::to_string(n.get<std::size_t>()), " ", state);
    f.add("runs", concat(std::to_string(store_doc["runs"].get<std::size_t>()),
                         states.empty() ? std::string{} : concat(" (", states, ")")));
    f.add("logbooks", std::to_string(store_doc["logbooks"].get<std::size_t>()));
  } else {
    f.add("runs", "- (no checkpoint store in this file)");
  }
  f.print(o.out);
  if (board) detail::print_corrupt_records(board_doc["corrupt_records"], o.out);
  return success;
}

}  // namespace flowkit::admin
