// flowkit-admin: inspect and repair flowkit jobboards and checkpoint stores.
//
//   flowkit-admin jobs list PATH [--json]
//   flowkit-admin runs show PATH RUN_ID [--json]
//   flowkit-admin jobs list postgresql://flowkit@db/work [--schema flowkit]
//
// The command words come first, then PATH (the board or store: a directory or a single file, or
// a postgresql:// URL where flowkit-admin is built with PostgreSQL), then the command's
// arguments. Nothing is ever created at PATH, and only `jobs abandon`,
// `jobs trash` and `trash purge` write to it. docs/admin.md describes every command, every JSON
// field and the exit codes.

#include "actions.hpp"
#include "admin_file.hpp"
#include "commands.hpp"
#ifdef FLOWKIT_ADMIN_POSTGRES
#include "pg_target.hpp"
#endif

#include <CLI/CLI.hpp>

#include <exception>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <utility>

namespace admin = flowkit::admin;

namespace {

constexpr const char* path_help =
    "the board or store: a directory (holding data.mdb) or a single file, or a postgresql:// URL";

std::string schema = "flowkit";  // --schema, for a postgresql:// PATH

// A leaf command: its PATH argument and --json and --schema flags, and what it runs once the line
// is parsed.
CLI::App* command(CLI::App& parent, const char* name, const char* description, std::string& path,
                  bool& as_json, std::function<int()>& chosen, std::function<int()> action) {
  CLI::App* c = parent.add_subcommand(name, description);
  c->add_option("PATH", path, path_help)->required();
  c->add_option("--schema", schema,
                "with a postgresql:// PATH: the schema of the board and store (default flowkit)");
  c->add_flag("--json", as_json, "write one JSON document (docs/admin.md names its fields)");
  c->callback([&chosen, action = std::move(action)] { chosen = action; });
  return c;
}

// CLI11's check of a job id argument: empty when it is one, else why it is not.
std::string not_a_job_id(std::string& text) {
  return flowkit::job_id::parse(text) ? std::string{} : std::string{"not a job id (8-4-4-4-12 hex digits)"};
}
const CLI::Validator job_id_text{not_a_job_id, "JOB_ID", "job id"};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Inspect and repair flowkit jobboards and checkpoint stores.", "flowkit-admin"};
  app.set_version_flag("--version", FLOWKIT_VERSION);
  app.require_subcommand(1);

  std::string path, id_text, logbook_text, reason, by = admin::default_operator();
  std::optional<std::string> logbook;
  bool as_json = false;
  std::function<int()> chosen;
  admin::output o{std::cout, std::cerr};
  std::optional<admin::admin_file> file;
  // Runs a command on what PATH names: an LMDB file, or a PostgreSQL database.
  const auto at_path = [&](auto&& run) -> int {
#ifdef FLOWKIT_ADMIN_POSTGRES
    if (admin::is_pg_url(path)) {
      admin::pg_target target{path, schema};
      return run(target);
    }
#else
    if (path.starts_with("postgresql://") || path.starts_with("postgres://"))
      throw admin::failure(admin::usage,
                           "this flowkit-admin was built without PostgreSQL (libpqxx): " + path);
#endif
    return run(file.emplace(path));
  };

  CLI::App* jobs = app.add_subcommand("jobs", "the jobs on a board: list, show, abandon, trash");
  jobs->require_subcommand(1);
  command(*jobs, "list", "every job on the board, highest priority first, then oldest", path, as_json, chosen,
          [&] { return at_path([&](auto& f) { return admin::jobs_list(f, o); }); });
  command(*jobs, "show", "one job: everything the board holds about it, and the run it checkpoints to", path,
          as_json, chosen,
          [&] {
            return at_path([&](auto& f) { return admin::jobs_show(f, *flowkit::job_id::parse(id_text), o); });
          })
      ->add_option("ID", id_text, "the job's id")
      ->required()
      ->check(job_id_text);

  CLI::App* abandon =
      command(*jobs, "abandon",
              "make a job UNCLAIMED now, whatever its claim: its holder loses the claim "
              "(its next extend, consume or fenced checkpoint write fails)",
              path, as_json, chosen, [&] {
                return at_path([&](auto& f) {
                  return admin::jobs_abandon(f, *flowkit::job_id::parse(id_text), by,
                                             reason.empty() ? "abandoned by an operator" : reason, o);
                });
              });
  abandon->add_option("ID", id_text, "the job's id")->required()->check(job_id_text);
  abandon->add_option("--reason", reason, "why (kept in the job's history)");
  abandon->add_option("--by", by, "who acts (default: flowkit-admin (USER))");
  CLI::App* to_trash =
      command(*jobs, "trash", "move a job to the trash, whatever its claim: it is never served again", path,
              as_json, chosen, [&] {
                return at_path([&](auto& f) {
                  return admin::jobs_trash(f, *flowkit::job_id::parse(id_text), by, reason, o);
                });
              });
  to_trash->add_option("ID", id_text, "the job's id")->required()->check(job_id_text);
  to_trash->add_option("--reason", reason, "why (kept in the trash)")->required();
  to_trash->add_option("--by", by, "who acts (default: flowkit-admin (USER))");

  CLI::App* trash = app.add_subcommand("trash", "the board's trash: list, purge");
  trash->require_subcommand(1);
  command(*trash, "list", "the trashed jobs, oldest first, with who trashed them and why", path, as_json,
          chosen, [&] { return at_path([&](auto& f) { return admin::trash_list(f, o); }); });
  command(*trash, "purge", "empty the trash: its jobs are gone for good", path, as_json, chosen,
          [&] { return at_path([&](auto& f) { return admin::trash_purge(f, o); }); });

  CLI::App* runs = app.add_subcommand("runs", "the runs in a checkpoint store: list, show");
  runs->require_subcommand(1);
  command(*runs, "list", "every run (flow detail), by run id", path, as_json, chosen,
          [&] { return at_path([&](auto& f) { return admin::runs_list(f, logbook, o); }); })
      ->add_option("--logbook", logbook_text, "only the runs of this logbook")
      ->each([&](const std::string& b) { logbook = b; });
  command(*runs, "show", "one run: its flow detail, then each atom that has a record", path, as_json, chosen,
          [&] { return at_path([&](auto& f) { return admin::runs_show(f, id_text, o); }); })
      ->add_option("ID", id_text, "the run's id")
      ->required();

  CLI::App* board = app.add_subcommand("board", "the file as a whole: stats");
  board->require_subcommand(1);
  command(*board, "stats", "jobs by state, trash, runs, file and map size, corrupt job records", path,
          as_json, chosen, [&] { return at_path([&](auto& f) { return admin::board_stats(f, o); }); });

  // Set last: subcommands copy their parent's footer when they are made, and theirs stay short.
  app.footer(
      "Every command reads `flowkit-admin COMMAND SUBCOMMAND PATH [ARGUMENTS] [--json]`, e.g.\n"
      "  flowkit-admin jobs list ./board\n"
      "  flowkit-admin runs show ./board order-42 --json\n"
      "PATH may hold a jobboard, a checkpoint store, or both; a postgresql:// URL names a database,\n"
      "whose schema --schema gives (default flowkit). Nothing is created there, and only\n"
      "`jobs abandon`, `jobs trash` and `trash purge` write to it. Times are UTC.\n"
      "Exit codes: 0 done, 1 no such job or run, 2 usage, 3 no board or store at PATH, 4 not a\n"
      "flowkit file, 5 damaged, 6 another format, 7 storage failed, 8 refused by the board or store,\n"
      "9 internal error. `flowkit-admin COMMAND SUBCOMMAND --help` describes one command.");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints the help, the version, or the error and a hint
    return code == 0 ? admin::success : admin::usage;
  }
  o.as_json = as_json;
  try {
    return chosen();
  } catch (const std::exception& e) {
    std::cout.flush();
    std::cerr << "flowkit-admin: " << admin::one_line(e.what()) << '\n';
#ifdef FLOWKIT_ADMIN_POSTGRES
    if (const auto code = admin::pg_code_of(e)) return *code;
#endif
    return admin::code_of(e);
  }
}
