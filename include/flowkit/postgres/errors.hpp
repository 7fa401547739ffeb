#pragma once
// What the PostgreSQL stores throw besides the board's and the checkpoint store's own refusals:
//
//   fk::storage_error
//   └── fk::pg_error                  a PostgreSQL store failed: url() (its password hidden)
//       ├── fk::pg_unreachable        no connection could be made (a wrong URL, no server)
//       ├── fk::pg_connection_lost    the connection dropped and the operation was not retried
//       │                             (or the server stayed away longer than reconnect_timeout)
//       ├── fk::pg_outcome_unknown    the connection dropped during COMMIT: the operation may or
//       │                             may not have happened; it is never retried
//       ├── fk::pg_schema_too_new     the schema was made by a newer flowkit: refused, untouched
//       └── fk::pg_query_failed       the server refused a statement (sqlstate())

#include <flowkit/storage_errors.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace flowkit {

class pg_error : public storage_error {
 public:
  pg_error(std::string url, const std::string& what) : storage_error(what), url_(std::move(url)) {}
  // The connection string, its password replaced by "***".
  const std::string& url() const noexcept { return url_; }

 private:
  std::string url_;
};

class pg_unreachable : public pg_error {
 public:
  pg_unreachable(std::string url, const std::string& why)
      : pg_error(url, "flowkit: cannot connect to PostgreSQL at " + url + ": " + why) {}
};

class pg_connection_lost : public pg_error {
 public:
  pg_connection_lost(std::string url, std::string_view doing, const std::string& why)
      : pg_error(url, "flowkit: " + std::string{doing} + ": the connection to PostgreSQL at " + url +
                          " was lost: " + why) {}
};

class pg_outcome_unknown : public pg_error {
 public:
  pg_outcome_unknown(std::string url, std::string_view doing, const std::string& why)
      : pg_error(url,
                 "flowkit: " + std::string{doing} + ": the connection to PostgreSQL at " + url +
                     " was lost during COMMIT, so whether it happened is unknown (not retried): " + why) {}
};

class pg_schema_too_new : public pg_error {
 public:
  pg_schema_too_new(std::string url, std::string schema, std::uint32_t found, std::uint32_t supported)
      : pg_error(url, "flowkit: schema '" + schema + "' at " + url + " has flowkit schema version " +
                          std::to_string(found) + "; this flowkit knows versions up to " +
                          std::to_string(supported) + ": refused, nothing written"),
        schema_(std::move(schema)),
        found_(found),
        supported_(supported) {}
  const std::string& schema() const noexcept { return schema_; }
  std::uint32_t found() const noexcept { return found_; }
  std::uint32_t supported() const noexcept { return supported_; }

 private:
  std::string schema_;
  std::uint32_t found_, supported_;
};

class pg_query_failed : public pg_error {
 public:
  pg_query_failed(std::string url, std::string_view doing, const std::string& why, std::string sqlstate)
      : pg_error(url, "flowkit: " + std::string{doing} + " at " + url + ": " + why),
        sqlstate_(std::move(sqlstate)) {}
  const std::string& sqlstate() const noexcept { return sqlstate_; }

 private:
  std::string sqlstate_;
};

}  // namespace flowkit
