#pragma once
// fk::logging_listener: writes every flow and atom transition, and failures, to a stream.

#include <flowkit/engine/listener.hpp>

#include <ostream>

namespace flowkit {

/// A listener that writes one line per flow or atom transition (with the failure, if any) and per
/// progress report to a stream.
class logging_listener {
 public:
  /// Writes to `out`, which must outlive the listener.
  explicit logging_listener(std::ostream& out) : out_(&out) {}

  /// The listener hooks; called by the engine.
  void on_flow(const flow_event& e) { *out_ << "flow " << e.flow << ": " << to_string(e.from) << " -> " << to_string(e.to) << '\n'; }
  void on_atom(const atom_event& e) {
    *out_ << "atom " << e.atom << ": " << to_string(e.from) << " -> " << to_string(e.to);
    if (e.error) *out_ << " (" << e.error->type_name() << ": " << e.error->what() << ')';
    *out_ << '\n';
  }
  void on_progress(const progress_event& e) { *out_ << "atom " << e.atom << ": progress " << e.value << '\n'; }

 private:
  std::ostream* out_;
};

}  // namespace flowkit
