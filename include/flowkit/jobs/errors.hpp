#pragma once
// What a jobboard throws. Every error names what it is about (job id, owner, path) in what(),
// and keeps those as fields for code that reacts to it. Besides these jobboard_errors, a board
// throws fk::io_error when the storage under it fails; both are fk::storage_errors.

#include <flowkit/detail/path_errors.hpp>
#include <flowkit/storage_errors.hpp>

#include <cstdint>
#include <string>
#include <utility>

namespace flowkit {

/// Base of every refusal of a jobboard. A board throws these and, when the storage under it fails
/// (a full disk, permission denied, an LMDB call), fk::io_error: both are fk::storage_errors
/// (storage_errors.hpp).
class jobboard_error : public storage_error {
 public:
  using storage_error::storage_error;
};

/// The board file is damaged beyond one record: shorter than its meta pages say (truncated), so
/// reading it would fault (SIGBUS). Refused at open, before LMDB maps it; nothing is written.
/// path() is the data file.
class corrupt_board : public detail::path_error<jobboard_error> {
 public:
  corrupt_board(std::string path, const std::string& why)
      : path_error("jobboard file ", std::move(path), " is damaged: ", why) {}
};

/// lmdb_jobboard_options{.must_exist = true} and the path holds no board (does not exist, or is an
/// empty directory or an empty LMDB environment). Nothing was created.
class board_not_found : public detail::path_error<jobboard_error> {
 public:
  board_not_found(std::string path, const std::string& why)
      : path_error("no jobboard at ", std::move(path), ": ", why) {}
};

/// No job with this id is on the board (never posted, or consumed, or trashed).
class job_not_found : public jobboard_error {
 public:
  explicit job_not_found(std::string job_id)
      : jobboard_error("flowkit: job " + job_id + " is not on the board"), job_id_(std::move(job_id)) {}
  /// The job's id, as text.
  const std::string& job_id() const noexcept { return job_id_; }

 private:
  std::string job_id_;
};

/// claim(): another owner holds a live claim, or the job backs off (abandoned with a retry_after).
class unclaimable_job : public jobboard_error {
 public:
  unclaimable_job(std::string job_id, std::string owner, const std::string& until,
                  const std::string& process = {})
      : jobboard_error("flowkit: job " + job_id + " is claimed by '" + owner + "'" +
                       (process.empty() ? std::string{} : " (process " + process + ")") + " until " + until),
        job_id_(std::move(job_id)),
        owner_(std::move(owner)) {}
  /// The job is UNCLAIMED but backs off until `until` (owner() is empty).
  static unclaimable_job backing_off(std::string job_id, const std::string& until) {
    std::string what = "flowkit: job " + job_id + " backs off until " + until + ": not claimable before then";
    return unclaimable_job(std::move(what), std::move(job_id));
  }
  /// The job's id, as text.
  const std::string& job_id() const noexcept { return job_id_; }
  /// Who holds the claim; empty when the job backs off.
  const std::string& owner() const noexcept { return owner_; }

 private:
  unclaimable_job(std::string what, std::string job_id) : jobboard_error(what), job_id_(std::move(job_id)) {}
  std::string job_id_, owner_;
};

/// An action that needs ownership was made with a claim that is not the job's live claim.
class not_owner : public jobboard_error {
 public:
  not_owner(std::string job_id, std::string who, const std::string& why)
      : jobboard_error("flowkit: '" + who + "' does not own job " + job_id + ": " + why),
        job_id_(std::move(job_id)),
        who_(std::move(who)) {}
  /// The job's id, as text.
  const std::string& job_id() const noexcept { return job_id_; }
  /// Who tried to act on the job.
  const std::string& who() const noexcept { return who_; }

 private:
  std::string job_id_, who_;
};

/// The claim was valid once and is no longer: it expired, was abandoned, the job was claimed
/// again (a higher fencing token) or left the board. The holder must stop working on the job.
class claim_lost : public not_owner {
 public:
  claim_lost(std::string job_id, std::string who, std::uint64_t token, const std::string& why)
      : not_owner(std::move(job_id), std::move(who), "claim #" + std::to_string(token) + " lost: " + why),
        token_(token) {}
  /// The fencing token of the claim that was lost.
  std::uint64_t token() const noexcept { return token_; }

 private:
  std::uint64_t token_;
};

/// The path exists and is something else: a plain file, a foreign LMDB environment, a directory
/// holding other files. Nothing at the path was changed.
class not_a_board : public detail::path_error<jobboard_error> {
 public:
  not_a_board(std::string path, const std::string& why)
      : path_error("", std::move(path), " is not a jobboard: ", why) {}
};

/// The board was written by another flowkit, newer or older, whose layout this one does not read.
/// Left untouched.
class incompatible_board_format : public detail::format_error<jobboard_error> {
 public:
  incompatible_board_format(std::string path, std::uint32_t found, std::uint32_t supported)
      : format_error("jobboard ", std::move(path), found, supported,
                     found < supported
                         ? " only (older boards are not converted: drain it with the flowkit that wrote it)"
                         : "") {}
};

/// A job record that does not decode (bad checksum, truncated, unknown record version). Listings
/// skip it and report it; operations on that job throw this.
class corrupt_job : public jobboard_error {
 public:
  corrupt_job(std::string job_id, const std::string& why)
      : jobboard_error("flowkit: job record " + job_id + " is corrupt: " + why), job_id_(std::move(job_id)) {}
  /// The job's id, as text.
  const std::string& job_id() const noexcept { return job_id_; }

 private:
  std::string job_id_;
};

/// job.store<S>() with an S other than the one the job was posted with.
class store_type_mismatch : public jobboard_error {
 public:
  store_type_mismatch(const std::string& job_id, const std::string& posted, const std::string& asked)
      : jobboard_error("flowkit: job " + job_id + " was posted with store {" + posted + "}, read as {" +
                       asked + "}") {}
};

}  // namespace flowkit
