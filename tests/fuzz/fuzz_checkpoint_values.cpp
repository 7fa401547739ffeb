// libFuzzer target: the values a resumed run reads back from a checkpoint, Boost binary archives
// decoded by persistence/persist.hpp: a retry's history (attempts with their values and failures)
// and an atom's result. The first byte picks the decoder. Any bytes: the value or an exception,
// never a read outside them (ASan), never UB (UBSan), never an allocation out of proportion.

#include <flowkit/persistence/persist.hpp>
#include <flowkit/persistence/serialization.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes{reinterpret_cast<const char*>(data) + 1, size - 1};
  try {
    switch (data[0] % 4) {
      case 0: {
        flowkit::retry_history<int> h;
        flowkit::detail::decode_history(bytes, h);
        break;
      }
      case 1: {
        flowkit::retry_history<std::string> h;
        flowkit::detail::decode_history(bytes, h);
        break;
      }
      case 2:
        (void)flowkit::deserialize_from<std::vector<int>>(bytes);
        break;
      default:
        (void)flowkit::deserialize_from<std::tuple<std::string, std::map<std::string, int>>>(bytes);
    }
  } catch (const std::exception&) {
  }
  return 0;
}
