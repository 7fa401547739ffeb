#pragma once
// flowkit's core: tasks, flows, the engine. Needs Boost.Hana and the standard library only.

#include <flowkit/core/failure.hpp>
#include <flowkit/core/name.hpp>
#include <flowkit/core/outcome.hpp>
#include <flowkit/core/progress.hpp>
#include <flowkit/core/states.hpp>
#include <flowkit/core/store.hpp>
#include <flowkit/core/task.hpp>
#include <flowkit/engine/engine.hpp>
#include <flowkit/engine/executor.hpp>
#include <flowkit/engine/listener.hpp>
#include <flowkit/engine/logging_listener.hpp>
#include <flowkit/engine/progress_display.hpp>
#include <flowkit/engine/run_result.hpp>
#include <flowkit/engine/thread_pool.hpp>
#include <flowkit/engine/timing_listener.hpp>
#include <flowkit/engine/trace_listener.hpp>
#include <flowkit/flow/graph_flow.hpp>
#include <flowkit/flow/linear_flow.hpp>
#include <flowkit/flow/link.hpp>
#include <flowkit/flow/structural_hash.hpp>
#include <flowkit/flow/to_dot.hpp>
#include <flowkit/flow/unordered_flow.hpp>
