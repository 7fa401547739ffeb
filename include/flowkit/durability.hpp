#pragma once
// fk::durability: how far a committed change to a store survives. A backend that has a mode says
// so through durability(); the engine's checkpoints follow it (persistence/persist.hpp).

#include <cstdint>

namespace flowkit {

/// How far a committed change survives.
enum class durability : std::uint8_t {
  /// fsync on every commit (LMDB's default): survives power loss. One fsync per change.
  power_loss_safe,
  /// MDB_NOMETASYNC: data pages fsynced, the meta page not: a machine crash may undo the last
  /// commit, never corrupt the file. Still one fsync per change.
  no_meta_sync,
  /// MDB_NOSYNC, the group-commit mode: a commit is in the OS page cache when it returns, so it
  /// survives any process crash (kill -9 included); a machine crash may lose the commits since the
  /// last sync() (and LMDB warns a crash of the machine can then damage the file on
  /// filesystems that reorder writes). Call sync() at the points that must be durable.
  process_crash_safe,
};

}  // namespace flowkit
