#pragma once
// fk::pg_backend: checkpoints in PostgreSQL, beside a pg_jobboard, for conductors on many
// machines.
//
//   fk::pg_backend store{"postgresql://flowkit@db.example/work"};
//
// Every call is one transaction. A commit locks its run's row, so commits to one run are ordered;
// its guard runs first in that transaction (transaction::work()), which is how a conductor's
// checkpoint write checks its claim on a pg_jobboard of the same database: the check and the
// write commit together or not at all. Records are the LMDB store's (persistence/record_codec.hpp);
// the tables are in detail/pg_schema.hpp. Connections drop: see detail/pg_connection.hpp.

#include <flowkit/durability.hpp>
#include <flowkit/persistence/backend.hpp>
#include <flowkit/persistence/errors.hpp>
#include <flowkit/persistence/model.hpp>
#include <flowkit/persistence/record_codec.hpp>
#include <flowkit/postgres/detail/pg_connection.hpp>
#include <flowkit/postgres/detail/pg_schema.hpp>
#include <flowkit/postgres/errors.hpp>

#include <pqxx/pqxx>

#include <algorithm>
#include <concepts>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace flowkit {

class pg_backend {
 public:
  // What a commit's guard is given: the commit's own transaction, to read (or write) through.
  class transaction {
   public:
    pqxx::work& work() const noexcept { return *t_; }

   private:
    friend class pg_backend;
    explicit transaction(pqxx::work& t) noexcept : t_(&t) {}
    pqxx::work* t_;
  };

  explicit pg_backend(const std::string& url, pg_options opts = {})
      : schema_((detail::check_schema_name(opts.schema), opts.schema)),
        pool_(std::make_shared<detail::pg_pool>(url, opts.reconnect_timeout)) {
    if (!detail::ensure_pg_schema(*pool_, schema_, !opts.must_exist))
      throw store_not_found(pool_->shown_url(), "no flowkit schema '" + schema_ + "' in that database");
  }
  pg_backend(const pg_backend&) = delete;
  pg_backend& operator=(const pg_backend&) = delete;

  const std::string& url() const noexcept { return pool_->shown_url(); }
  const std::string& schema() const noexcept { return schema_; }

  // A commit is the server's COMMIT: as durable as the server makes it (synchronous_commit). The
  // engine therefore starts an atom's successors once its record is committed (persist.hpp), so
  // that a conductor killed mid-job leaves every finished task recorded.
  flowkit::durability durability() const noexcept { return durability::power_loss_safe; }

  run_record open_run(const run_spec& spec, open_mode mode = create_or_resume) {
    detail::check_spec(spec);
    if (auto stored = load_run(spec.id)) {
      detail::check_same_run(stored->flow, spec);
      return std::move(*stored);
    }
    if (mode == open_mode::resume_only) throw run_not_found(spec.id);
    return pool_->run(
        "create run '" + spec.id + "'",
        [&](pqxx::connection& c) {
          pqxx::work t{c};
          run_record r;
          r.flow.id = spec.id;
          r.flow.logbook = spec.logbook;
          r.flow.flow_name = spec.flow_name;
          r.flow.structure_hash = spec.structure_hash;
          r.flow.store_bytes = spec.store_bytes;
          r.flow.created = r.flow.updated = run_clock::now();
          std::string rec;
          detail::ckpt::encode_flow_detail(r.flow, rec);
          const pqxx::result made =
              t.exec_params("INSERT INTO " + schema_ +
                                ".fk_runs (id, logbook, rec) VALUES ($1, $2, $3) "
                                "ON CONFLICT (id) DO NOTHING RETURNING 1",
                            detail::bytea(spec.id), detail::bytea(spec.logbook), detail::bytea(rec));
          if (made.empty()) {  // created meanwhile, by another process
            run_record stored = *read_run(t, spec.id);
            detail::check_same_run(stored.flow, spec);
            return stored;
          }
          t.commit();
          return r;
        },
        detail::pg_retry::always);  // a retry finds the run it made, or another's (checked)
  }

  std::optional<run_record> load_run(std::string_view id) const {
    detail::check_run_id(id);
    return pool_->run(
        "load run '" + std::string{id} + "'",
        [&](pqxx::connection& c) {
          // One snapshot for the run and its atoms.
          pqxx::transaction<pqxx::isolation_level::repeatable_read, pqxx::readwrite_policy::read_only> t{c};
          return read_run(t, id);
        },
        detail::pg_retry::always);
  }

  template <class Guard = no_guard>
    requires std::invocable<Guard&, transaction&>
  void commit(std::string_view id, const batch& changes, Guard&& guard = Guard{}) {
    detail::check_batch(changes);
    // A later change of an atom replaces an earlier one: only the last is written.
    std::map<std::string_view, const atom_detail*> last;
    for (const atom_detail& a : changes) last[a.name] = &a;
    pool_->run(
        "commit to run '" + std::string{id} + "'",
        [&](pqxx::connection& c) {
          pqxx::work t{c};
          transaction txn{t};
          std::invoke(guard, txn);
          const pqxx::result res = t.exec_params(
              "SELECT rec FROM " + schema_ + ".fk_runs WHERE id = $1 FOR UPDATE", detail::bytea(id));
          if (res.empty()) throw run_not_found(std::string{id});
          std::string rec;
          detail::ckpt::restamp_flow_detail(id, detail::bytes_of(res[0][0]), changes.flow_state(),
                                            run_clock::now(), rec);
          t.exec_params("UPDATE " + schema_ + ".fk_runs SET rec = $2 WHERE id = $1", detail::bytea(id),
                        detail::bytea(rec));
          for (const auto& [name, a] : last) {
            detail::ckpt::encode_atom_detail(*a, rec);
            t.exec_params("INSERT INTO " + schema_ +
                              ".fk_atoms (run, name, rec) VALUES ($1, $2, $3) "
                              "ON CONFLICT (run, name) DO UPDATE SET rec = excluded.rec",
                          detail::bytea(id), detail::bytea(name), detail::bytea(rec));
          }
          t.commit();
        },
        detail::pg_retry::always);  // idempotent: the same records again, the guard checked again
  }

  std::vector<std::string> logbooks() const {
    return pool_->run(
        "list logbooks",
        [&](pqxx::connection& c) {
          pqxx::read_transaction t{c};
          std::vector<std::string> out;
          for (const pqxx::row& row :
               t.exec("SELECT DISTINCT logbook FROM " + schema_ + ".fk_runs ORDER BY 1"))
            out.push_back(detail::bytes_of(row[0]));
          return out;
        },
        detail::pg_retry::always);
  }

  std::vector<flow_detail> runs() const { return list("", false); }
  std::vector<flow_detail> runs(std::string_view logbook) const { return list(logbook, true); }

  bool erase_run(std::string_view id) {
    detail::check_run_id(id);
    return pool_->run("erase run '" + std::string{id} + "'", [&](pqxx::connection& c) {
      pqxx::work t{c};
      // The run's atoms go with it (ON DELETE CASCADE).
      const pqxx::result res =
          t.exec_params("DELETE FROM " + schema_ + ".fk_runs WHERE id = $1 RETURNING 1", detail::bytea(id));
      t.commit();
      return !res.empty();
    });
  }

 private:
  std::optional<run_record> read_run(pqxx::transaction_base& t, std::string_view id) const {
    const pqxx::result run =
        t.exec_params("SELECT rec FROM " + schema_ + ".fk_runs WHERE id = $1", detail::bytea(id));
    if (run.empty()) return std::nullopt;
    run_record r;
    detail::ckpt::decode_flow_detail(id, detail::bytes_of(run[0][0]), r.flow);
    // bytea compares bytewise: atoms in name order, as on LMDB.
    const pqxx::result atoms = t.exec_params(
        "SELECT name, rec FROM " + schema_ + ".fk_atoms WHERE run = $1 ORDER BY name", detail::bytea(id));
    r.atoms.reserve(atoms.size());
    for (const pqxx::row& row : atoms)
      detail::ckpt::decode_atom_detail(id, detail::bytes_of(row[0]), detail::bytes_of(row[1]),
                                       r.atoms.emplace_back());
    return r;
  }

  std::vector<flow_detail> list(std::string_view logbook, bool of_book) const {
    return pool_->run(
        "list runs",
        [&](pqxx::connection& c) {
          pqxx::read_transaction t{c};
          const pqxx::result res = of_book
                                       ? t.exec_params("SELECT id, rec FROM " + schema_ +
                                                           ".fk_runs WHERE logbook = $1 ORDER BY id",
                                                       detail::bytea(logbook))
                                       : t.exec("SELECT id, rec FROM " + schema_ + ".fk_runs ORDER BY id");
          std::vector<flow_detail> out;
          out.reserve(res.size());
          for (const pqxx::row& row : res)
            detail::ckpt::decode_flow_detail(detail::bytes_of(row[0]), detail::bytes_of(row[1]),
                                             out.emplace_back());
          return out;
        },
        detail::pg_retry::always);
  }

  std::string schema_;
  std::shared_ptr<detail::pg_pool> pool_;
};

static_assert(backend<pg_backend>);

}  // namespace flowkit
