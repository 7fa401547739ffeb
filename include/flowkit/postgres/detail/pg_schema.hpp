#pragma once
// The PostgreSQL schema both stores share, versioned: created on first use, its version recorded
// in <schema>.fk_meta; a schema of a newer version is refused before anything is written.
//
// Version 1 (times are nanoseconds since the epoch, ids and names bytea, records in the formats
// of jobs/record_codec.hpp and persistence/record_codec.hpp):
//   fk_meta  (key text primary key, value text)    'schema_version' = '1'
//   fk_jobs  (id bytea primary key, rank smallint, seq bigint, ready_at bigint, token bigint,
//             rec bytea)    rank 0 = VERY_HIGH; ready_at = when the job is claimable from (its
//             claim's expiry, its back-off's end, or the smallest bigint): a claim is a row
//             update under the row's lock, token the fencing token
//   fk_trash (id bytea primary key, at bigint, entry bytea)
//   fk_job_seq                                     the posting order
//   fk_runs  (id bytea primary key, logbook bytea, rec bytea)
//   fk_atoms (run bytea references fk_runs on delete cascade, name bytea, rec bytea,
//             primary key (run, name))

#include <flowkit/postgres/detail/pg_connection.hpp>
#include <flowkit/postgres/errors.hpp>

#include <pqxx/pqxx>

#include <cstdint>
#include <string>

namespace flowkit::detail {

inline constexpr std::uint32_t pg_schema_version = 1;

// Creates the schema's tables if they are not there (unless create is false), or checks their
// version; in one transaction under an advisory lock, so that processes starting together create
// it once. Returns whether the schema is there now: false only when create is false and it is
// not (nothing is written then).
inline bool ensure_pg_schema(pg_pool& pool, const std::string& schema, bool create = true) {
  check_schema_name(schema);
  return pool.run("open schema '" + schema + "'", [&](pqxx::connection& c) {
    pqxx::work t{c};
    t.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))", "flowkit schema " + schema);
    const pqxx::row has = t.exec_params1("SELECT to_regclass($1) IS NOT NULL", schema + ".fk_meta");
    if (has[0].as<bool>()) {
      const pqxx::result v = t.exec("SELECT value FROM " + schema + ".fk_meta WHERE key = 'schema_version'");
      const std::uint32_t found = v.empty() ? 0 : v[0][0].as<std::uint32_t>();
      if (found > pg_schema_version)
        throw pg_schema_too_new(pool.shown_url(), schema, found, pg_schema_version);
      if (found == pg_schema_version) return true;  // nothing to write: the transaction is rolled back
      throw pg_error(pool.shown_url(), "flowkit: schema '" + schema + "' at " + pool.shown_url() +
                                           " has an fk_meta table without a schema version: not flowkit's, "
                                           "refused, nothing written");
    }
    if (!create) return false;
    const std::string s = schema + ".";
    t.exec("CREATE SCHEMA IF NOT EXISTS " + schema);
    t.exec("CREATE TABLE " + s + "fk_meta (key text PRIMARY KEY, value text NOT NULL)");
    t.exec("CREATE TABLE " + s +
           "fk_jobs (id bytea PRIMARY KEY, rank smallint NOT NULL, seq bigint NOT NULL, "
           "ready_at bigint NOT NULL, token bigint NOT NULL, rec bytea NOT NULL)");
    t.exec("CREATE INDEX ON " + s + "fk_jobs (rank, seq)");
    t.exec("CREATE INDEX ON " + s + "fk_jobs (ready_at)");
    t.exec("CREATE TABLE " + s + "fk_trash (id bytea PRIMARY KEY, at bigint NOT NULL, entry bytea NOT NULL)");
    t.exec("CREATE SEQUENCE " + s + "fk_job_seq");
    t.exec("CREATE TABLE " + s +
           "fk_runs (id bytea PRIMARY KEY, logbook bytea NOT NULL, rec bytea NOT NULL)");
    t.exec("CREATE INDEX ON " + s + "fk_runs (logbook, id)");
    t.exec(
        "CREATE TABLE " + s + "fk_atoms (run bytea NOT NULL REFERENCES " + s +
        "fk_runs (id) ON DELETE CASCADE, name bytea NOT NULL, rec bytea NOT NULL, PRIMARY KEY (run, name))");
    t.exec_params("INSERT INTO " + s + "fk_meta (key, value) VALUES ('schema_version', $1)",
                  std::to_string(pg_schema_version));
    t.commit();
    return true;
  });
}

}  // namespace flowkit::detail
