#pragma once
// The flows a conductor can run, known at compile time: each a flow type and the store type its
// jobs carry. A job names its flow (the flow's name) and carries its store's signature; the
// conductor runs it with the entry whose flow name and store type both match.
//
//   using checkout_job = fk::job_flow<decltype(checkout), decltype(fk::store<"order_id">(0))>;
//   using refund_job   = fk::job_flow<decltype(refund), decltype(fk::store<"order_id", "amount">(0, 0.0))>;
//   fk::flows<checkout_job, refund_job> known{checkout, refund};   // or {} when the flows are
//                                                                   // default-constructible
//
// A board's post("order 42", checkout, fk::store<"order_id">(42)) makes a job that checkout_job
// runs. Two entries may share a flow name with different store types.

#include <flowkit/core/store.hpp>
#include <flowkit/flow/flow.hpp>
#include <flowkit/persistence/serialization.hpp>

#include <concepts>
#include <cstddef>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace flowkit {

/// A flow a conductor runs, and the store its jobs carry.
template <flow_like Flow, class Store>
struct job_flow {
  static_assert(is_store_v<Store>, "fk::job_flow<Flow, Store>: Store is made by fk::store<...>(...)");
  /// The flow type.
  using flow_type = Flow;
  /// The store type its jobs are posted with.
  using store_type = Store;
  /// The flow value the conductor's engines run.
  Flow flow;
};

namespace detail {
template <class T>
inline constexpr bool is_job_flow_v = false;
template <class Flow, class Store>
inline constexpr bool is_job_flow_v<job_flow<Flow, Store>> = true;
}  // namespace detail

/// The registry: one job_flow per kind of job the conductor takes.
template <class... Entries>
class flows {
  static_assert(sizeof...(Entries) > 0, "fk::flows<...>: a conductor needs at least one fk::job_flow");
  static_assert((detail::is_job_flow_v<Entries> && ...),
                "fk::flows<...>: each entry is an fk::job_flow<Flow, Store>");

 public:
  /// Default-constructs every flow.
  flows() requires(std::default_initializable<typename Entries::flow_type>&&...)
      : entries_{Entries{typename Entries::flow_type{}}...} {}
  /// One flow value per entry, in the entries' order.
  explicit flows(typename Entries::flow_type... fs) : entries_{Entries{std::move(fs)}...} {}

  /// Calls run(entry) with the entry for a job of this flow name and store signature and returns
  /// found; otherwise says why none fits.
  /// What dispatch() found for a job.
  enum class match { found, unknown_flow, other_store };
  template <class Run>
  match dispatch(std::string_view flow_name, std::string_view signature, Run&& run) const {
    match m = match::unknown_flow;
    std::apply(
        [&](const auto&... entry) {
          auto try_one = [&](const auto& e) {
            using E = std::remove_cvref_t<decltype(e)>;
            if (m == match::found || E::flow_type::name.view() != flow_name) return;
            if (signature != signatures_[index_of<E>()]) {
              m = match::other_store;
              return;
            }
            m = match::found;
            run(e);
          };
          (try_one(entry), ...);
        },
        entries_);
    return m;
  }

  /// "checkout (store: order_id: int), refund (...)": for a refusal that says what is known.
  std::string describe() const {
    std::string out;
    std::size_t i = 0;
    ((out += (i ? ", " : "") + std::string{Entries::flow_type::name.view()} +
             " (store: " + readable_store_signature(signatures_[i]) + ")",
      ++i),
     ...);
    return out;
  }
  /// The stores this registry expects for a flow name, readable, for the same refusals.
  std::string stores_of(std::string_view flow_name) const {
    std::string out;
    std::size_t i = 0;
    (
        [&] {
          if (Entries::flow_type::name.view() == flow_name)
            out += (out.empty() ? "" : " or ") + readable_store_signature(signatures_[i]);
          ++i;
        }(),
        ...);
    return out;
  }

 private:
  template <class E>
  static constexpr std::size_t index_of() {
    std::size_t i = 0, at = 0;
    ((std::is_same_v<E, Entries> ? (at = i, ++i) : ++i), ...);
    return at;
  }

  std::tuple<Entries...> entries_;
  std::vector<std::string> signatures_{store_signature<typename Entries::store_type>()...};
};

}  // namespace flowkit
