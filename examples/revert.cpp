// A failing task and the reverts it triggers: a hotel and a flight are booked in parallel, the
// payment is declined, and every booking that was made is cancelled, latest first.
#include <flowkit/flowkit.hpp>

#include <iostream>
#include <stdexcept>
#include <string>

namespace fk = flowkit;

int main() {
  auto hotel = fk::task<"book_hotel">(fk::inputs<"trip">, fk::outputs<"hotel">,
                                      [](const std::string& trip) { return "hotel for " + trip; })
                   .on_revert([](const std::string&, const fk::outcome<std::string>& booked) {
                     std::cout << "  cancel " << *booked << '\n';
                   });
  auto flight = fk::task<"book_flight">(fk::inputs<"trip">, fk::outputs<"flight">,
                                        [](const std::string& trip) { return "flight for " + trip; })
                    .on_revert([](const std::string&, const fk::outcome<std::string>& booked) {
                      std::cout << "  cancel " << *booked << '\n';
                    });
  auto pay = fk::task<"pay">(fk::inputs<"hotel", "flight">, [](const std::string&, const std::string&) {
               throw std::runtime_error("card declined");
             }).on_revert([](const std::string&, const std::string&, const fk::outcome<void>& paid, fk::failures all) {
    std::cout << "  pay failed (" << paid.error().what() << "), " << all.size() << " failure(s) in the run\n";
  });

  auto trip = fk::linear_flow<"trip">(fk::unordered_flow<"book">(hotel, flight), pay);
  fk::engine eng{trip, fk::store<"trip">(std::string("Lisbon"))};
  eng.listen(fk::logging_listener{std::cout});

  fk::thread_pool pool{2};
  auto result = eng.run(pool);
  std::cout << "final state: " << fk::to_string(result.state()) << '\n';
  for (const fk::failure& f : result.failures())
    std::cout << "failure: " << f.atom() << " threw " << f.type_name() << ": " << f.what() << '\n';
  return result.state() == fk::flow_state::reverted ? 0 : 1;
}
