#pragma once
// The LMDB flags of each fk::durability mode. One mode for every store on an LMDB file (the
// jobboard, the checkpoint backend), since stores on one file share one environment.

#include <flowkit/durability.hpp>

#include <lmdb.h>

#include <cstdint>

namespace flowkit {

namespace detail {

// The mdb_env_open flags of a durability mode.
constexpr unsigned lmdb_sync_flags(durability d) noexcept {
  return d == durability::process_crash_safe ? unsigned{MDB_NOSYNC}
         : d == durability::no_meta_sync     ? unsigned{MDB_NOMETASYNC}
                                             : 0u;
}

}  // namespace detail
}  // namespace flowkit
