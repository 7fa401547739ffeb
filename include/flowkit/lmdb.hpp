#pragma once
// flowkit on LMDB: the jobboard and the checkpoint store. Needs LMDB and
// Boost.Serialization; link flowkit::lmdb. The core (<flowkit/flowkit.hpp>) needs neither.

#include <flowkit/jobs/clock.hpp>
#include <flowkit/jobs/errors.hpp>
#include <flowkit/jobs/job.hpp>
#include <flowkit/jobs/jobboard.hpp>
#include <flowkit/jobs/lmdb_jobboard.hpp>
#include <flowkit/jobs/memory_jobboard.hpp>
#include <flowkit/persistence/backend.hpp>
#include <flowkit/persistence/errors.hpp>
#include <flowkit/persistence/lmdb_backend.hpp>
#include <flowkit/persistence/memory_backend.hpp>
#include <flowkit/persistence/model.hpp>
#include <flowkit/persistence/persist.hpp>
#include <flowkit/persistence/serialization.hpp>
#include <flowkit/storage_errors.hpp>
