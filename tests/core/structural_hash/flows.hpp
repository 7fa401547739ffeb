// The flow whose structural hash two separate programs print (structural_hash_print.cpp, built
// twice); each builds it from its own lambdas.
#pragma once
#include <flowkit/flowkit.hpp>

#include <string>
#include <vector>

namespace hash_check {

namespace fk = flowkit;

inline auto order_flow() {
  auto fetch = fk::task<"fetch">(fk::inputs<"order_id">, fk::outputs<"order">,
                                 [](int id) { return std::to_string(id); });
  auto charge = fk::task<"charge">(fk::inputs<"order">, fk::outputs<"receipt">,
                                   [](const std::string& o) { return static_cast<long>(o.size()); });
  auto mail = fk::task<"mail">(fk::inputs<"receipt">, [](long) {});
  auto audit = fk::task<"audit">(fk::inputs<"order">, [](const std::string&) {});
  return fk::linear_flow<"checkout">(
      fetch,
      fk::graph_flow<"pay">(charge, mail, audit, fk::link<"charge", "mail">([](long r) { return r > 0; })),
      fk::linear_flow<"retrying">(fk::task<"flaky">([] {})).retry(fk::times(3)));
}

}  // namespace hash_check
