// flowkit-admin as its users run it: a process started with a command and a path. The file it
// reads is made here with the library — jobs posted, one claimed, one trashed, and the runs of
// small persisted engines, a board and a checkpoint store in one LMDB file — and what the tool
// writes (its JSON) is compared with what the library reads from the same file. Every refusal must
// exit non-zero with one line that names the path, and leave the file as it was, bytes and mtime.

#include "admin/run_admin.hpp"
#include "jobs/support.hpp"

#include <flowkit/flowkit.hpp>
#include <flowkit/lmdb.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fk = flowkit;
namespace fs = std::filesystem;
using json = nlohmann::json;
using fk::test::admin;
using outcome = fk::test::admin_outcome;
using namespace std::chrono_literals;
using fk::test::cat;

namespace {

// "2026-11-30T22:49:23.123Z", written here independently of the tool.
std::string iso(fk::job_time t) {
  const long long ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  char buf[128];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

json time_or_null(const std::optional<fk::job_time>& t) { return t ? json(iso(*t)) : json(nullptr); }

// A job's history as `jobs show` writes it, against the job the library reads.
void check_attempts(const json& attempts, const fk::job& job) {
  INFO(attempts.dump());
  REQUIRE(attempts.size() == job.attempts().size());
  for (std::size_t i = 0; i < job.attempts().size(); ++i) {
    const fk::job_attempt& a = job.attempts()[i];
    CHECK(attempts[i].at("token") == a.token);
    CHECK(attempts[i].at("owner") == a.owner);
    CHECK(attempts[i].at("identity") == a.identity);
    CHECK(attempts[i].at("claimed") == iso(a.claimed));
    CHECK(attempts[i].at("ended") == iso(a.ended));
    CHECK(attempts[i].at("how") == std::string{fk::to_string(a.how)});
    CHECK(attempts[i].at("reason") == a.reason);
  }
}

// The file the tests read: a board and a checkpoint store in one directory.
//   jobs:  "order 1" (HIGH, claimed by worker-1), "order 2" (checkpoints to run-ok),
//          "refund 3" (LOW, a store of two slots, abandoned by worker-5 and backing off for an
//          hour); "poison" trashed by worker-2
//   runs:  run-ok (orders, SUCCESS), run-reverted (refunds, REVERTED: decline threw),
//          run-retried (orders, SUCCESS on the third attempt of a retried subflow)
struct sample {
  fk::test::temp_dir dir;
  fs::path path = dir / "file";
  fk::job_id claimed, linked, low, trashed;

  sample() {
    fk::lmdb_jobboard board{path};
    fk::lmdb_backend store{path};
    claimed = board.post("order 1", "checkout", fk::store<"order_id">(1), fk::job_priority::high);
    linked = board.post("order 2", "checkout", fk::store<"order_id">(2),
                        fk::post_options{.flow_detail = "run-ok"});
    low = board.post("refund 3", "refund", fk::store<"order_id", "who">(3, std::string{"ana"}),
                     fk::job_priority::low);
    trashed = board.post("poison", "checkout", fk::store<"order_id">(4));
    board.claim(claimed, "worker-1", 1h);
    board.trash(board.claim(trashed, "worker-2", 1h), "card expired");
    board.abandon(board.claim(low, "worker-5", 1h), "out of memory", 1h);

    auto fetch =
        fk::task<"fetch">(fk::inputs<"order_id">, fk::outputs<"amount">, [](int id) { return id * 2.5; });
    auto charge = fk::task<"charge">(fk::inputs<"amount">, fk::outputs<"receipt">, [](double amount) {
      return fk::test::numbered("R", static_cast<long long>(amount * 100));
    });
    auto decline =
        fk::task<"decline">(fk::inputs<"amount">, fk::outputs<"refund">,
                            [](double) -> std::string { throw std::runtime_error("card declined"); });
    auto pay = fk::task<"pay">(fk::inputs<"attempt">, fk::outputs<"paid">, [](int attempt) {
      if (attempt < 3) throw std::runtime_error("gateway busy");
      return attempt * 100;
    });
    {
      fk::engine eng{fk::linear_flow<"checkout">(fetch, charge), fk::store<"order_id">(2),
                     fk::persist(store, "run-ok", fk::persist_options{.logbook = "orders"})};
      REQUIRE(eng.run().succeeded());
    }
    {
      fk::engine eng{fk::linear_flow<"refund">(fetch, decline), fk::store<"order_id">(3),
                     fk::persist(store, "run-reverted", fk::persist_options{.logbook = "refunds"})};
      REQUIRE(eng.run().state() == fk::flow_state::reverted);
    }
    {
      fk::engine eng{fk::linear_flow<"checkout">(fk::linear_flow<"paying">(pay).retry(
                         fk::for_each<"attempt">(std::vector<int>{1, 2, 3}))),
                     fk::persist(store, "run-retried", fk::persist_options{.logbook = "orders"})};
      REQUIRE(eng.run().succeeded());
    }
  }

  fs::path data_file() const { return path / "data.mdb"; }
  std::string arg() const { return path.string(); }
};

// A job as `jobs list` writes it, against the job the library reads.
void check_job(const json& j, const fk::job& job) {
  INFO(j.dump());
  CHECK(j.at("id") == job.id().str());
  CHECK(j.at("name") == job.name());
  CHECK(j.at("flow") == job.flow());
  CHECK(j.at("flow_detail") == job.flow_detail());
  CHECK(j.at("priority") == std::string{fk::to_string(job.priority())});
  CHECK(j.at("state") == std::string{fk::to_string(job.state())});
  CHECK(j.at("owner") == (job.owner() ? json(*job.owner()) : json(nullptr)));
  CHECK(j.at("claimed") == time_or_null(job.claimed()));
  CHECK(j.at("expires") == time_or_null(job.expires()));
  CHECK(j.at("not_before") == time_or_null(job.not_before()));
  CHECK(j.at("token") == job.token());
  CHECK(j.at("created") == iso(job.created()));
}

json failure_or_null(const fk::stored_failure* f) {
  return f ? json{{"atom", f->atom}, {"type", f->type_name}, {"message", f->what}} : json(nullptr);
}

json size_or_null(const std::string* bytes) { return bytes ? json(bytes->size()) : json(nullptr); }

// What a file looks like from outside: its bytes, its mtime, and what lies beside it.
struct snapshot {
  std::string bytes;
  long long mtime_s = 0, mtime_ns = 0;
  std::vector<std::string> beside;

  static snapshot of(const fs::path& file) {
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    return {fk::test::slurp(file), st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
            fk::test::listing(file.parent_path())};
  }
  friend bool operator==(const snapshot&, const snapshot&) = default;
};

// A refusal: the exit code, nothing on stdout, and one line on stderr naming the path.
void check_refusal(const outcome& r, int code, const fs::path& path) {
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.code == code);
  CHECK(r.out.empty());
  CHECK(fk::test::starts_with(r.err, "flowkit-admin: "));
  CHECK(r.err.find('\n') == r.err.size() - 1);
  CHECK_THAT(r.err, Catch::Contains(path.string()));
}

}  // namespace

TEST_CASE("jobs list --json: the board's jobs, in the board's order, as the library reads them", "[admin]") {
  sample s;
  const outcome r = admin({"jobs", "list", s.arg(), "--json"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.err.empty());
  const json doc = r.doc();
  fk::lmdb_jobboard board{s.path, {.must_exist = true}};
  const std::vector<fk::job> jobs = board.jobs();
  REQUIRE(jobs.size() == 3);
  REQUIRE(doc.at("jobs").size() == jobs.size());
  for (std::size_t i = 0; i < jobs.size(); ++i) check_job(doc["jobs"][i], jobs[i]);
  CHECK(doc["jobs"][0]["id"] == s.claimed.str());  // HIGH first
  CHECK(doc["jobs"][0]["state"] == "CLAIMED");
  CHECK(doc["jobs"][0]["owner"] == "worker-1");
  CHECK(doc["jobs"][0]["token"] == 1);
  CHECK(doc["jobs"][1]["id"] == s.linked.str());
  CHECK(doc["jobs"][1]["expires"].is_null());
  CHECK(doc["jobs"][2]["id"] == s.low.str());  // LOW last
  CHECK(doc["jobs"][2]["state"] == "UNCLAIMED");
  CHECK(doc["jobs"][2]["not_before"].is_string());  // backing off
  CHECK(doc.at("corrupt").empty());
}

TEST_CASE("jobs show --json: every field, the store's signature and size, the run it checkpoints to",
          "[admin]") {
  sample s;
  fk::lmdb_jobboard board{s.path, {.must_exist = true}};

  SECTION("a claimed job") {
    const outcome r = admin({"jobs", "show", s.arg(), s.claimed.str(), "--json"});
    REQUIRE(r.code == 0);
    const json j = r.doc().at("job");
    const fk::job job = board.get(s.claimed);
    check_job(j, job);
    CHECK(j.at("owner_identity") == *job.owner_identity());
    CHECK(j.at("store").at("signature") == "order_id:int");
    CHECK(j.at("store").at("signature_raw") == job.store_signature());
    CHECK(j.at("store").at("bytes") == job.store_bytes().size());
    CHECK(j.at("trashed").is_null());
    CHECK(j.at("run").is_null());  // it checkpoints to a run of its own id, not yet made
    CHECK(j.at("attempts").empty());
  }
  SECTION("a job with a history: its abandoned claim, and the back-off") {
    const outcome r = admin({"jobs", "show", s.arg(), s.low.str(), "--json"});
    REQUIRE(r.code == 0);
    const json j = r.doc().at("job");
    const fk::job job = board.get(s.low);
    check_job(j, job);
    check_attempts(j.at("attempts"), job);
    REQUIRE(j.at("attempts").size() == 1);
    CHECK(j["attempts"][0]["owner"] == "worker-5");
    CHECK(j["attempts"][0]["how"] == "abandoned");
    CHECK(j["attempts"][0]["reason"] == "out of memory");
    CHECK(j.at("not_before") == iso(*job.not_before()));
  }
  SECTION("a job whose run is in the store") {
    const outcome r = admin({"jobs", "show", s.arg(), s.linked.str(), "--json"});
    REQUIRE(r.code == 0);
    const json j = r.doc().at("job");
    check_job(j, board.get(s.linked));
    CHECK(j.at("owner_identity").is_null());
    CHECK(j.at("run").at("id") == "run-ok");
    CHECK(j.at("run").at("logbook") == "orders");
    CHECK(j.at("run").at("state") == "SUCCESS");
    CHECK(j.at("run").at("atoms") == 2);
  }
  SECTION("a store of two slots") {
    const outcome r = admin({"jobs", "show", s.arg(), s.low.str(), "--json"});
    REQUIRE(r.code == 0);
    const fk::job job = board.get(s.low);
    const json store = r.doc().at("job").at("store");
    CHECK(store.at("signature") == fk::readable_store_signature(job.store_signature()));
    CHECK_THAT(store.at("signature").get<std::string>(), Catch::StartsWith("order_id:int,who:"));
    CHECK(store.at("bytes") == job.store_bytes().size());
  }
  SECTION("a trashed job is shown from the trash") {
    const outcome r = admin({"jobs", "show", s.arg(), s.trashed.str(), "--json"});
    REQUIRE(r.code == 0);
    const json j = r.doc().at("job");
    const std::vector<fk::trashed_job> trash = board.trashed();
    REQUIRE(trash.size() == 1);
    check_job(j, trash[0].job);
    CHECK(j.at("state") == "COMPLETE");
    CHECK(j.at("trashed").at("reason") == "card expired");
    CHECK(j.at("trashed").at("by") == "worker-2");
    CHECK(j.at("trashed").at("when") == iso(trash[0].when));
  }
}

TEST_CASE("trash list --json: the trashed jobs with who trashed them, when and why", "[admin]") {
  sample s;
  const outcome r = admin({"trash", "list", s.arg(), "--json"});
  REQUIRE(r.code == 0);
  const json doc = r.doc();
  fk::lmdb_jobboard board{s.path, {.must_exist = true}};
  const std::vector<fk::trashed_job> trash = board.trashed();
  REQUIRE(doc.at("trash").size() == 1);
  const json& t = doc["trash"][0];
  check_job(t, trash[0].job);
  CHECK(t.at("id") == s.trashed.str());
  CHECK(t.at("trashed") ==
        json{{"when", iso(trash[0].when)}, {"by", "worker-2"}, {"reason", "card expired"}});
}

TEST_CASE("runs list --json: every run, or one logbook's, as the store holds them", "[admin]") {
  sample s;
  fk::lmdb_backend store{s.path, {.must_exist = true}};

  SECTION("every run") {
    const outcome r = admin({"runs", "list", s.arg(), "--json"});
    REQUIRE(r.code == 0);
    const json runs = r.doc().at("runs");
    const std::vector<fk::flow_detail> stored = store.runs();
    REQUIRE(stored.size() == 3);
    REQUIRE(runs.size() == stored.size());
    for (std::size_t i = 0; i < stored.size(); ++i) {
      const json& run = runs[i];
      const fk::flow_detail& f = stored[i];
      INFO(run.dump());
      CHECK(run.at("id") == f.id);
      CHECK(run.at("logbook") == f.logbook);
      CHECK(run.at("flow") == f.flow_name);
      CHECK(run.at("state") == std::string{fk::to_string(f.state)});
      CHECK(run.at("created") == iso(f.created));
      CHECK(run.at("updated") == iso(f.updated));
      CHECK(run.at("atoms") == store.load_run(f.id)->atoms.size());
      CHECK(run.at("problem").is_null());
    }
    CHECK(runs[0]["id"] == "run-ok");
    CHECK(runs[1]["id"] == "run-retried");
    CHECK(runs[1]["state"] == "SUCCESS");
    CHECK(runs[2]["id"] == "run-reverted");
    CHECK(runs[2]["state"] == "REVERTED");
  }
  SECTION("one logbook") {
    const outcome r = admin({"runs", "list", s.arg(), "--logbook", "orders", "--json"});
    REQUIRE(r.code == 0);
    const json runs = r.doc().at("runs");
    REQUIRE(runs.size() == 2);
    CHECK(runs[0]["id"] == "run-ok");
    CHECK(runs[1]["id"] == "run-retried");
  }
  SECTION("a logbook with no runs") {
    const outcome r = admin({"runs", "list", s.arg(), "--logbook", "nobody", "--json"});
    REQUIRE(r.code == 0);
    CHECK(r.doc().at("runs").empty());
  }
}

TEST_CASE("runs show --json: the run, then each atom's state, result size, failure and retries", "[admin]") {
  sample s;
  fk::lmdb_backend store{s.path, {.must_exist = true}};
  const std::string id = GENERATE("run-ok", "run-reverted", "run-retried");
  const outcome r = admin({"runs", "show", s.arg(), id, "--json"});
  INFO(id << ": " << r.err);
  REQUIRE(r.code == 0);
  const json doc = r.doc();
  const fk::run_record stored = *store.load_run(id);
  const json& run = doc.at("run");
  CHECK(run.at("id") == id);
  CHECK(run.at("logbook") == stored.flow.logbook);
  CHECK(run.at("flow") == stored.flow.flow_name);
  CHECK(run.at("structure_hash") == fk::detail::hex64(stored.flow.structure_hash));
  CHECK(run.at("state") == std::string{fk::to_string(stored.flow.state)});
  CHECK(run.at("created") == iso(stored.flow.created));
  CHECK(run.at("updated") == iso(stored.flow.updated));
  CHECK(run.at("store_bytes") == stored.flow.store_bytes.size());
  CHECK(run.at("atoms") == stored.atoms.size());
  const json& atoms = doc.at("atoms");
  REQUIRE(atoms.size() == stored.atoms.size());
  for (std::size_t i = 0; i < stored.atoms.size(); ++i) {
    const json& a = atoms[i];
    const fk::atom_detail& d = stored.atoms[i];
    INFO(a.dump());
    CHECK(a.at("name") == d.name);
    CHECK(a.at("state") == std::string{fk::to_string(d.state)});
    CHECK(a.at("intention") == std::string{fk::to_string(d.intention)});
    CHECK(a.at("version") == d.version);
    CHECK(a.at("result_bytes") == size_or_null(d.result_bytes()));
    CHECK(a.at("failure") == failure_or_null(d.failure()));
    CHECK(a.at("revert_result_bytes") == size_or_null(d.revert_bytes()));
    CHECK(a.at("revert_failure") == failure_or_null(d.revert_failure()));
    CHECK(a.at("retry_history_bytes") == d.retry_history.size());
  }
  const auto atom = [&](const char* name) -> const json& {
    for (const json& a : atoms)
      if (a.at("name") == name) return a;
    FAIL("no atom " << name);
    throw std::logic_error("not reached");
  };
  if (id == "run-reverted") {
    const json& f = atom("decline").at("failure");
    CHECK(f.at("atom") == "decline");
    CHECK(f.at("type") == "std::runtime_error");
    CHECK(f.at("message") == "card declined");
    CHECK(atom("decline").at("retry_attempts").is_null());
  }
  if (id == "run-retried") {
    CHECK(atom("paying_retry").at("retry_attempts") == 3);
    CHECK(atom("pay").at("result_bytes") == sizeof(int));
    CHECK(atom("pay").at("retry_attempts").is_null());
  }
  if (id == "run-ok") CHECK(atom("charge").at("result_bytes").get<std::size_t>() > 0);
}

TEST_CASE("board stats --json: jobs by state, trash, runs, the file's sizes, corrupt records", "[admin]") {
  sample s;
  SECTION("a sound file") {
    const outcome r = admin({"board", "stats", s.arg(), "--json"});
    REQUIRE(r.code == 0);
    const json doc = r.doc();
    CHECK(doc.at("path") == s.arg());
    const json& file = doc.at("file");
    CHECK(file.at("data_file") == s.data_file().string());
    CHECK(file.at("size") == fs::file_size(s.data_file()));
    CHECK(file.at("used").get<std::uint64_t>() > 0);
    CHECK(file.at("used").get<std::uint64_t>() <= file.at("size").get<std::uint64_t>());
    CHECK(file.at("map_size").get<std::uint64_t>() >= file.at("used").get<std::uint64_t>());
    CHECK(file.at("page_size").get<std::uint64_t>() >= 512);
    const json& board = doc.at("board");
    CHECK(board.at("jobs") == 3);
    CHECK(board.at("by_state") == json{{"UNCLAIMED", 2}, {"CLAIMED", 1}});
    CHECK(board.at("trash") == 1);
    CHECK(board.at("corrupt") == 0);
    CHECK(board.at("corrupt_records").empty());
    const json& store = doc.at("store");
    CHECK(store.at("runs") == 3);
    CHECK(store.at("logbooks") == 2);
    CHECK(store.at("by_state") == json{{"REVERTED", 1}, {"SUCCESS", 2}});
  }
  SECTION("a corrupt job record is counted, named, and left out of listings") {
    {
      fk::lmdb_jobboard board{s.path, {.must_exist = true}};
      fk::test::poke(board, "fk.jobs", fk::detail::id_key(s.low), "garbage");
    }
    const outcome stats = admin({"board", "stats", s.arg(), "--json"});
    REQUIRE(stats.code == 0);
    const json board = stats.doc().at("board");
    CHECK(board.at("jobs") == 3);
    CHECK(board.at("corrupt") == 1);
    REQUIRE(board.at("corrupt_records").size() == 1);
    CHECK(board["corrupt_records"][0]["id"] == s.low.str());
    CHECK_THAT(board["corrupt_records"][0]["error"].get<std::string>(), Catch::Contains("corrupt"));

    const outcome list = admin({"jobs", "list", s.arg(), "--json"});
    REQUIRE(list.code == 0);
    const json doc = list.doc();
    CHECK(doc.at("jobs").size() == 2);
    REQUIRE(doc.at("corrupt").size() == 1);
    CHECK(doc["corrupt"][0]["id"] == s.low.str());

    const outcome show = admin({"jobs", "show", s.arg(), s.low.str()});
    check_refusal(show, 5, s.low.str());
  }
}

TEST_CASE("tables for people: aligned columns, readable times", "[admin]") {
  sample s;
  SECTION("jobs list") {
    const outcome r = admin({"jobs", "list", s.arg()});
    REQUIRE(r.code == 0);
    std::vector<std::string> lines;
    std::istringstream in{r.out};
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    REQUIRE(lines.size() == 4);
    CHECK_THAT(lines[0], Catch::StartsWith("ID") && Catch::Contains("NAME") && Catch::Contains("UNTIL") &&
                             Catch::EndsWith("TOKEN"));
    const std::size_t name_at = lines[0].find("NAME"), state_at = lines[0].find("STATE");
    CHECK(lines[1].substr(0, 36) == s.claimed.str());
    CHECK(lines[1].substr(name_at, 7) == "order 1");
    CHECK(lines[1].substr(state_at, 7) == "CLAIMED");
    CHECK_THAT(lines[1], Catch::Contains("worker-1") && Catch::Contains("in 59m"));
    CHECK(lines[2].substr(name_at, 7) == "order 2");
    CHECK(lines[3].substr(name_at, 8) == "refund 3");
    CHECK(lines[3].substr(state_at, 9) == "UNCLAIMED");
    CHECK_THAT(lines[3], Catch::Contains("not before: in 59m"));
  }
  SECTION("jobs show: the history as a table") {
    const outcome r = admin({"jobs", "show", s.arg(), s.low.str()});
    REQUIRE(r.code == 0);
    CHECK_THAT(r.out, Catch::Contains("backing off") && Catch::Contains("worker-5") &&
                          Catch::Contains("abandoned") && Catch::Contains("out of memory"));
  }
  SECTION("jobs show") {
    const outcome r = admin({"jobs", "show", s.arg(), s.linked.str()});
    REQUIRE(r.code == 0);
    CHECK_THAT(r.out, Catch::Contains("store") && Catch::Contains("{order_id:int}") &&
                          Catch::Contains("SUCCESS, logbook orders"));
  }
  SECTION("runs show") {
    const outcome r = admin({"runs", "show", s.arg(), "run-reverted"});
    REQUIRE(r.code == 0);
    CHECK_THAT(r.out, Catch::Contains("REVERTED") && Catch::Contains("std::runtime_error: card declined"));
  }
  SECTION("board stats") {
    const outcome r = admin({"board", "stats", s.arg()});
    REQUIRE(r.code == 0);
    CHECK_THAT(r.out, Catch::Contains("3 (2 unclaimed, 1 claimed)") && Catch::Contains("corrupt records") &&
                          Catch::Contains("1 REVERTED, 2 SUCCESS"));
  }
}

TEST_CASE("reading commands change nothing in the file", "[admin]") {
  sample s;
  const snapshot before = snapshot::of(s.data_file());
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"jobs", "list", s.arg()},
                                             {"jobs", "show", s.arg(), s.linked.str(), "--json"},
                                             {"trash", "list", s.arg()},
                                             {"runs", "list", s.arg(), "--json"},
                                             {"runs", "show", s.arg(), "run-retried"},
                                             {"board", "stats", s.arg()}}) {
    INFO(args[0] << ' ' << args[1]);
    CHECK(admin(args).code == 0);
  }
  CHECK(snapshot::of(s.data_file()) == before);
}

TEST_CASE("what is not a flowkit board or store is refused in one line, and left as it was", "[admin]") {
  fk::test::temp_dir dir;
  const std::vector<std::string> command = GENERATE(values<std::vector<std::string>>(
      {{"jobs", "list"}, {"trash", "list"}, {"trash", "purge"}, {"runs", "list"}, {"board", "stats"}}));
  const auto run = [&](const fs::path& p) { return admin({command[0], command[1], p.string()}); };
  INFO(command[0] << ' ' << command[1]);

  SECTION("a path that does not exist") {
    const fs::path p = dir / "missing";
    const outcome r = run(p);
    check_refusal(r, 3, p);
    CHECK_THAT(r.err, Catch::Contains("does not exist"));
    CHECK(fk::test::listing(dir.path()).empty());
  }
  SECTION("an empty directory") {
    const fs::path p = dir / "empty";
    fs::create_directory(p);
    const outcome r = run(p);
    check_refusal(r, 3, p);
    CHECK_THAT(r.err, Catch::Contains("empty directory"));
    CHECK(fk::test::listing(p).empty());
  }
  SECTION("a file of random bytes") {
    const fs::path p = dir / "random.bin";
    {
      std::mt19937 bits{42};
      std::string bytes(64 * 1024, '\0');
      for (char& c : bytes) c = static_cast<char>(bits());
      std::ofstream{p, std::ios::binary} << bytes;
    }
    const snapshot before = snapshot::of(p);
    const outcome r = run(p);
    check_refusal(r, 4, p);
    CHECK_THAT(r.err, Catch::Contains("not an LMDB file"));
    CHECK(snapshot::of(p) == before);
  }
  SECTION("a board of a newer format") {
    const fs::path p = dir / "newer";
    {
      fk::lmdb_jobboard board{p};
      board.post("j", "checkout", fk::store<"order_id">(1));
      fk::test::poke(board, "fk.jobs.meta", "format", std::string{"\x03\x00\x00\x00", 4});
    }
    const snapshot before = snapshot::of(p / "data.mdb");
    const outcome r = run(p);
    check_refusal(r, 6, p);
    CHECK_THAT(r.err, Catch::Contains("format 3"));
    CHECK(snapshot::of(p / "data.mdb") == before);
  }
  SECTION("a truncated file") {
    const fs::path p = dir / "cut.mdb";
    {
      fk::lmdb_jobboard board{p, {.single_file = true}};
      for (int i = 0; i < 200; ++i) board.post("j", "checkout", fk::store<"note">(std::string(200, 'x')));
    }
    fs::resize_file(p, fs::file_size(p) / 2);
    const snapshot before = snapshot::of(p);
    const outcome r = run(p);
    check_refusal(r, 5, p);
    CHECK_THAT(r.err, Catch::Contains("truncated"));
    CHECK(snapshot::of(p) == before);
  }
}

TEST_CASE("a file with only a board, or only a store, serves its own commands and names what is missing",
          "[admin]") {
  fk::test::temp_dir dir;
  SECTION("only a board") {
    const fs::path p = dir / "board";
    {
      fk::lmdb_jobboard board{p};
      board.post("j", "checkout", fk::store<"order_id">(1));
    }
    const snapshot before = snapshot::of(p / "data.mdb");
    const outcome runs = admin({"runs", "list", p.string()});
    check_refusal(runs, 3, p);
    CHECK_THAT(runs.err, Catch::Contains("no checkpoint store") && Catch::Contains("a jobboard only"));
    CHECK(snapshot::of(p / "data.mdb") == before);

    const outcome jobs = admin({"jobs", "list", p.string(), "--json"});
    REQUIRE(jobs.code == 0);
    CHECK(jobs.doc().at("jobs").size() == 1);
    const outcome stats = admin({"board", "stats", p.string(), "--json"});
    REQUIRE(stats.code == 0);
    CHECK(stats.doc().at("board").at("jobs") == 1);
    CHECK(stats.doc().at("store").is_null());
    CHECK(snapshot::of(p / "data.mdb") == before);
  }
  SECTION("only a store") {
    const fs::path p = dir / "store";
    {
      fk::lmdb_backend store{p};
      store.open_run(
          {.id = "r1", .logbook = "orders", .flow_name = "checkout", .structure_hash = 1, .store_bytes = {}});
    }
    const snapshot before = snapshot::of(p / "data.mdb");
    for (const char* noun : {"jobs", "trash"}) {
      const outcome jobs = admin({noun, "list", p.string()});
      check_refusal(jobs, 3, p);
      CHECK_THAT(jobs.err, Catch::Contains("no jobboard") && Catch::Contains("a checkpoint store only"));
    }
    CHECK(snapshot::of(p / "data.mdb") == before);

    const outcome runs = admin({"runs", "list", p.string(), "--json"});
    REQUIRE(runs.code == 0);
    CHECK(runs.doc().at("runs").size() == 1);
    const outcome stats = admin({"board", "stats", p.string(), "--json"});
    REQUIRE(stats.code == 0);
    CHECK(stats.doc().at("board").is_null());
    CHECK(stats.doc().at("store").at("runs") == 1);
    CHECK(snapshot::of(p / "data.mdb") == before);
  }
}

TEST_CASE("the command line: help, usage errors, unknown jobs and runs", "[admin]") {
  sample s;
  SECTION("--help lists the commands and the exit codes") {
    const outcome r = admin({"--help"});
    CHECK(r.code == 0);
    CHECK_THAT(r.out, Catch::Contains("jobs") && Catch::Contains("trash") && Catch::Contains("runs") &&
                          Catch::Contains("board") && Catch::Contains("Exit codes"));
  }
  SECTION("a command's --help names its arguments") {
    const outcome r = admin({"jobs", "show", "--help"});
    CHECK(r.code == 0);
    CHECK_THAT(r.out, Catch::Contains("PATH") && Catch::Contains("ID") && Catch::Contains("--json"));
  }
  SECTION("no command") { CHECK(admin({}).code == 2); }
  SECTION("a word that is no command") { CHECK(admin({"jobs", "lsit", s.arg()}).code == 2); }
  SECTION("a job id that is not one") {
    const outcome r = admin({"jobs", "show", s.arg(), "order-1"});
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains("not a job id"));
  }
  SECTION("a job that is not on the board") {
    const std::string id = fk::job_id::generate().str();
    const outcome r = admin({"jobs", "show", s.arg(), id});
    check_refusal(r, 1, s.path);
    CHECK_THAT(r.err, Catch::Contains(id));
  }
  SECTION("a run that is not in the store") {
    const outcome r = admin({"runs", "show", s.arg(), "run-missing"});
    check_refusal(r, 1, s.path);
    CHECK_THAT(r.err, Catch::Contains("run-missing"));
  }
}

TEST_CASE("jobs abandon, jobs trash and trash purge change the board without holding the claims", "[admin]") {
  sample s;
  fk::lmdb_jobboard board{s.path, {.must_exist = true}};
  // A claim held in this process: the tool must take the job from under it.
  const fk::job_id held = s.linked;
  fk::claim holder = board.claim(held, "worker-3", 1h);

  SECTION("abandon a claimed job: it is UNCLAIMED, and its holder's claim is lost") {
    const outcome r = admin(
        {"jobs", "abandon", s.arg(), held.str(), "--reason", "worker-3 is stuck", "--by", "ops", "--json"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    const json doc = r.doc();
    CHECK(doc.at("was") ==
          json{{"state", "CLAIMED"}, {"owner", "worker-3"}, {"not_before", nullptr}, {"token", 1}});
    check_job(doc.at("job"), board.get(held));
    CHECK(doc.at("job").at("state") == "UNCLAIMED");
    CHECK(doc.at("by") == "ops");
    CHECK(doc.at("reason") == "worker-3 is stuck");
    CHECK(board.get(held).state() == fk::job_state::unclaimed);
    CHECK_THROWS_AS(board.extend(holder, 1h), fk::claim_lost);
    CHECK_THROWS_AS(board.consume(holder), fk::claim_lost);
    const outcome show = admin({"jobs", "show", s.arg(), held.str(), "--json"});
    REQUIRE(show.code == 0);
    const json attempts = show.doc().at("job").at("attempts");
    check_attempts(attempts, board.get(held));
    REQUIRE(attempts.size() == 1);
    CHECK(attempts[0]["owner"] == "worker-3");
    CHECK(attempts[0]["token"] == 1);
    CHECK(attempts[0]["how"] == "revoked");
    CHECK(attempts[0]["reason"] == "ops: worker-3 is stuck");
    CHECK(board.claim(held, "worker-4", 1h).token() == holder.token() + 2);  // revoked, then claimed
  }
  SECTION("abandon a job that backs off: it is claimable now") {
    const outcome r = admin({"jobs", "abandon", s.arg(), s.low.str(), "--json"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    const json doc = r.doc();
    CHECK(doc.at("was").at("not_before").is_string());
    CHECK(doc.at("job").at("not_before").is_null());
    CHECK(doc.at("reason") == "abandoned by an operator");
    CHECK(board.claim(s.low, "worker-6", 1h).token() == 2);
  }
  SECTION("abandon a job nobody holds: it stays UNCLAIMED") {
    const fk::job_id idle = board.post("idle", "checkout", fk::store<"order_id">(9));
    const outcome r = admin({"jobs", "abandon", s.arg(), idle.str()});
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK_THAT(r.out, Catch::Contains("was not claimed") && Catch::Contains("UNCLAIMED"));
    CHECK(board.get(idle).state() == fk::job_state::unclaimed);
    CHECK(board.get(idle).token() == 0);
  }
  SECTION("trash a claimed job: it is in the trash with who and why, and its holder's claim is lost") {
    const outcome r =
        admin({"jobs", "trash", s.arg(), held.str(), "--reason", "bad input", "--by", "ops", "--json"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    const json doc = r.doc();
    CHECK(doc.at("was").at("owner") == "worker-3");
    CHECK(doc.at("job").at("id") == held.str());
    CHECK(doc.at("job").at("state") == "COMPLETE");
    CHECK(doc.at("job").at("trashed").at("by") == "ops");
    CHECK(doc.at("job").at("trashed").at("reason") == "bad input");
    CHECK_FALSE(board.find(held));
    const std::vector<fk::trashed_job> trash = board.trashed();
    REQUIRE(trash.size() == 2);
    CHECK(trash[1].job.id() == held);
    CHECK(trash[1].by == "ops");
    CHECK(trash[1].reason == "bad input");
    CHECK(doc.at("job").at("trashed").at("when") == iso(trash[1].when));
    CHECK_THROWS_AS(board.consume(holder), fk::claim_lost);
    const outcome show = admin({"jobs", "show", s.arg(), held.str(), "--json"});  // from the trash
    REQUIRE(show.code == 0);
    check_attempts(show.doc().at("job").at("attempts"), trash[1].job);
    CHECK(show.doc()["job"]["attempts"][0]["reason"] == "ops: bad input");
  }
  SECTION("the operator is named by default") {
    REQUIRE(admin({"jobs", "trash", s.arg(), s.low.str(), "--reason", "duplicate"}).code == 0);
    const std::vector<fk::trashed_job> trash = board.trashed();
    REQUIRE(trash.size() == 2);
    CHECK_THAT(trash[1].by, Catch::StartsWith("flowkit-admin ("));
  }
  SECTION("trash needs a reason") {
    CHECK(admin({"jobs", "trash", s.arg(), s.low.str()}).code == 2);
    CHECK(board.find(s.low));
  }
  SECTION("a job already in the trash, or unknown, is not there to act on") {
    for (const char* verb : {"abandon", "trash"}) {
      const outcome trashed = admin({"jobs", verb, s.arg(), s.trashed.str(), "--reason", "again"});
      check_refusal(trashed, 1, s.path);
      CHECK_THAT(trashed.err, Catch::Contains("in the trash"));
      const std::string unknown = fk::job_id::generate().str();
      check_refusal(admin({"jobs", verb, s.arg(), unknown, "--reason", "x"}), 1, s.path);
    }
    CHECK(board.trashed().size() == 1);
  }
  SECTION("purge the trash") {
    const outcome r = admin({"trash", "purge", s.arg(), "--json"});
    REQUIRE(r.code == 0);
    CHECK(r.doc() == json{{"purged", 1}});
    CHECK(board.trashed().empty());
    CHECK(board.jobs().size() == 3);  // the board's jobs stay
    const outcome again = admin({"trash", "purge", s.arg()});
    REQUIRE(again.code == 0);
    CHECK_THAT(again.out, Catch::Contains("purged 0 jobs"));
  }
}
