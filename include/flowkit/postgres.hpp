#pragma once
// What runs on PostgreSQL (target flowkit::postgres, libpqxx): the jobboard and the checkpoint
// store beyond one machine. docs/deployment.md says when to choose them over LMDB.

#include <flowkit/postgres/errors.hpp>
#include <flowkit/postgres/pg_backend.hpp>
#include <flowkit/postgres/pg_jobboard.hpp>
