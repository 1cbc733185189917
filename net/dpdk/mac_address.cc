#include <absl/strings/numbers.h>
#include <absl/strings/str_split.h>

#include "io/base/absl_compat.h"
#include "net/dpdk/dpdk_port.h"

namespace ringlog::net::dpdk {

absl::StatusOr<std::array<uint8_t, 6>> parse_mac(std::string_view text) {
    std::array<uint8_t, 6> mac{};
    size_t count = 0;
    for (const absl::string_view part : absl::StrSplit(base::to_absl(text), ':')) {
        uint32_t value = 0;
        if (count == mac.size() || part.size() != 2 || !absl::SimpleHexAtoi(part, &value)) {
            return absl::InvalidArgumentError("not an Ethernet address (aa:bb:cc:dd:ee:ff)");
        }
        mac[count++] = static_cast<uint8_t>(value);
    }
    if (count != mac.size()) {
        return absl::InvalidArgumentError("not an Ethernet address (aa:bb:cc:dd:ee:ff)");
    }
    return mac;
}

}  // namespace ringlog::net::dpdk
