#pragma once
// flowkit-admin's commands that change a board: jobs abandon, jobs trash, trash purge. They act
// without holding the job's claim, through the board's operator operations (board.revoke,
// board.trash by id, board.purge_trash), each one write transaction.

#include "admin_file.hpp"
#include "commands.hpp"
#include "output.hpp"

#include <flowkit/lmdb.hpp>

#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <pwd.h>
#include <unistd.h>

namespace flowkit::admin {

// Who acts when flowkit-admin changes the board, unless --by says: "flowkit-admin (USER)", USER
// being $USER, else the effective user's login name, else "uid N".
inline std::string default_operator() {
  std::string user;
  if (const char* env = std::getenv("USER"); env && *env) user = env;
  if (const passwd* pw = user.empty() ? ::getpwuid(::geteuid()) : nullptr; pw && pw->pw_name)
    user = pw->pw_name;
  if (user.empty()) user = concat("uid ", std::to_string(::geteuid()));
  return concat("flowkit-admin (", user, ")");
}

namespace detail {

// A job as it was before an operator acted, for the report of what changed.
inline json was_json(const job& j) {
  return json{{"state", to_string(j.state())},
              {"owner", j.owner() ? json(*j.owner()) : json(nullptr)},
              {"not_before", time_or_null(j.not_before())},
              {"token", j.token()}};
}

inline std::string was_text(const job& j) {
  if (j.owner()) return concat("CLAIMED by ", *j.owner(), " (claim #", std::to_string(j.token()), ")");
  if (j.not_before()) return concat("UNCLAIMED, backing off until ", readable_time(*j.not_before()));
  return std::string{to_string(j.state())};
}

// The job, or a failure that says where it is instead (the trash, nowhere).
inline job job_on_board(auto& board, const job_id& id, const std::string& path) {
  if (std::optional<job> j = board.find(id)) return std::move(*j);
  for (const trashed_job& t : board.trashed())
    if (t.job.id() == id)
      throw failure(not_found, concat("job ", id.str(), " is in the trash of ", path, ", not on the board"));
  throw failure(not_found, concat("no job ", id.str(), " on the board at ", path));
}

}  // namespace detail

// jobs abandon ID: the job becomes UNCLAIMED and claimable now, whatever its claim or back-off; a
// live holder loses its claim (its next extend, consume or fenced checkpoint write fails with
// claim_lost), and the job's history records the claim as revoked.
inline int jobs_abandon(auto& file, const job_id& id, const std::string& by, const std::string& reason,
                        const output& o) {
  auto& board = file.board();
  const job before = detail::job_on_board(board, id, file.path());
  board.revoke(id, by, reason);
  const job after = board.get(id);
  if (o.as_json) {
    o.write(json{{"job", detail::job_summary(after)},
                 {"was", detail::was_json(before)},
                 {"by", by},
                 {"reason", reason}});
    return success;
  }
  if (before.owner() || before.not_before())
    o.out << "abandoned job " << id.str() << " (" << before.name() << "): it was " << detail::was_text(before)
          << ", it is " << to_string(after.state()) << " and claimable now\n";
  else
    o.out << "job " << id.str() << " (" << before.name() << ") was not claimed: it stays "
          << to_string(after.state()) << '\n';
  return success;
}

// jobs trash ID --reason TEXT: the job goes to the trash, whatever its claim.
inline int jobs_trash(auto& file, const job_id& id, const std::string& by, const std::string& reason,
                      const output& o) {
  auto& board = file.board();
  const job before = detail::job_on_board(board, id, file.path());
  board.trash(id, by, reason);
  std::optional<trashed_job> entry;
  for (trashed_job& t : board.trashed())
    if (t.job.id() == id) entry = std::move(t);
  if (o.as_json) {
    o.write(json{{"job", entry ? detail::trash_entry_json(*entry) : json(nullptr)},
                 {"was", detail::was_json(before)}});
    return success;
  }
  o.out << "trashed job " << id.str() << " (" << before.name() << "): it was " << detail::was_text(before)
        << "; reason: " << reason << '\n';
  return success;
}

// trash purge: empties the trash.
inline int trash_purge(auto& file, const output& o) {
  const std::size_t purged = file.board().purge_trash();
  if (o.as_json)
    o.write(json{{"purged", purged}});
  else
    o.out << "purged " << purged << (purged == 1 ? " job" : " jobs") << " from the trash\n";
  return success;
}

}  // namespace flowkit::admin
