#pragma once
// What a persistence backend throws. Every error names what it is about (path, run, atom) in
// what(), and keeps those as fields for code that reacts to it. The backend's refusals derive
// from fk::persistence_error; when the storage under an LMDB store fails (a full disk, permission
// denied, an LMDB call) it throws fk::io_error. Both are fk::storage_errors (storage_errors.hpp),
// the root shared with the jobboard's errors.

#include <flowkit/detail/path_errors.hpp>
#include <flowkit/storage_errors.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>

namespace flowkit {

/// Base of every refusal of a checkpoint store.
class persistence_error : public storage_error {
 public:
  using storage_error::storage_error;
};

namespace detail {
inline std::string hex64(std::uint64_t v) {
  char buf[19];
  std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(v));
  return buf;
}
}  // namespace detail

/// The path exists and is something else: a plain file, a foreign LMDB environment, a directory
/// holding other files. Nothing at the path was changed.
class not_a_store : public detail::path_error<persistence_error> {
 public:
  not_a_store(std::string path, const std::string& why)
      : path_error("", std::move(path), " is not a flowkit checkpoint store: ", why) {}
};

/// The store's data file is damaged beyond one record: shorter than its meta pages say (truncated),
/// so reading it would fault (SIGBUS). Refused at open, before LMDB maps it; nothing is written.
/// path() is the data file.
class corrupt_store : public detail::path_error<persistence_error> {
 public:
  corrupt_store(std::string path, const std::string& why)
      : path_error("checkpoint store file ", std::move(path), " is damaged: ", why) {}
};

/// lmdb_backend_options{.must_exist = true} and the path holds no checkpoint store (it does not
/// exist, or is an empty directory, an empty file or environment, or a jobboard's file without a
/// store). Nothing was created.
class store_not_found : public detail::path_error<persistence_error> {
 public:
  store_not_found(std::string path, const std::string& why)
      : path_error("no checkpoint store at ", std::move(path), ": ", why) {}
};

/// The store was written by a newer flowkit. Nothing at the path was changed.
class incompatible_store_format : public detail::format_error<persistence_error> {
 public:
  incompatible_store_format(std::string path, std::uint32_t found, std::uint32_t supported)
      : format_error("checkpoint store ", std::move(path), found, supported, " and older") {}
};

/// A stored record that does not decode (bad checksum, truncated, unknown record version, a value
/// out of range). atom() is empty when the run's own record (its flow detail) is the bad one.
class corrupt_record : public persistence_error {
 public:
  corrupt_record(std::string run, std::string atom, const std::string& why)
      : persistence_error("flowkit: " +
                          (atom.empty() ? "the flow detail of run '" + run + "'"
                                        : "the record of atom '" + atom + "' in run '" + run + "'") +
                          " is corrupt: " + why),
        run_(std::move(run)),
        atom_(std::move(atom)) {}
  /// The run's id.
  const std::string& run() const noexcept { return run_; }
  /// The atom's name; empty when the run's own record is the bad one.
  const std::string& atom() const noexcept { return atom_; }

 private:
  std::string run_, atom_;
};

/// No run with this id is stored (a commit to it, or opening it with fk::resume_only).
class run_not_found : public persistence_error {
 public:
  explicit run_not_found(std::string run)
      : persistence_error("flowkit: no run '" + run + "' is stored"), run_(std::move(run)) {}
  /// The run's id.
  const std::string& run() const noexcept { return run_; }

 private:
  std::string run_;
};

/// The run exists and was recorded for another flow (another name, or another structure: its
/// structural hash differs). Refused: a checkpoint is never applied to a flow it was not made by.
class flow_mismatch : public persistence_error {
 public:
  /// difference: what differs, when the engine could tell (e.g. "atom 'ship' differs: ...").
  flow_mismatch(std::string run, std::string stored_flow, std::uint64_t stored_hash, std::string given_flow,
                std::uint64_t given_hash, const std::string& difference = {})
      : persistence_error("flowkit: run '" + run + "' was recorded for flow '" + stored_flow +
                          "' (structure " + detail::hex64(stored_hash) + ") and is opened for flow '" +
                          given_flow + "' (structure " + detail::hex64(given_hash) + ")" +
                          (difference.empty() ? "" : ": " + difference)),
        run_(std::move(run)),
        stored_flow_(std::move(stored_flow)),
        given_flow_(std::move(given_flow)),
        stored_hash_(stored_hash),
        given_hash_(given_hash) {}
  /// The run's id.
  const std::string& run() const noexcept { return run_; }
  /// The flow the run was recorded for.
  const std::string& stored_flow() const noexcept { return stored_flow_; }
  /// The flow it was opened for.
  const std::string& given_flow() const noexcept { return given_flow_; }
  /// The structural hash stored with the run.
  std::uint64_t stored_hash() const noexcept { return stored_hash_; }
  /// The structural hash of the flow it was opened for.
  std::uint64_t given_hash() const noexcept { return given_hash_; }

 private:
  std::string run_, stored_flow_, given_flow_;
  std::uint64_t stored_hash_, given_hash_;
};

/// The run exists in another logbook than the one it is opened in.
class logbook_mismatch : public persistence_error {
 public:
  logbook_mismatch(std::string run, std::string stored, std::string given)
      : persistence_error("flowkit: run '" + run + "' belongs to logbook '" + stored + "', not to '" + given +
                          "'"),
        run_(std::move(run)),
        stored_(std::move(stored)),
        given_(std::move(given)) {}
  /// The run's id.
  const std::string& run() const noexcept { return run_; }
  /// The logbook the run belongs to.
  const std::string& stored() const noexcept { return stored_; }
  /// The logbook it was opened in.
  const std::string& given() const noexcept { return given_; }

 private:
  std::string run_, stored_, given_;
};

/// The store reached the largest size it was allowed (lmdb_backend_options::max_map_size). The
/// change that did not fit was not written.
class store_full : public detail::path_error<persistence_error> {
 public:
  store_full(std::string path, std::size_t limit)
      : path_error("checkpoint store ", std::move(path), " is full: it reached its limit of ",
                   std::to_string(limit) + " bytes"),
        limit_(limit) {}
  /// The size limit, in bytes.
  std::size_t limit() const noexcept { return limit_; }

 private:
  std::size_t limit_;
};

}  // namespace flowkit
