#include "net/dpdk/packet_io.h"

#include <arpa/inet.h>

#include <absl/strings/str_cat.h>

namespace ringlog::net::dpdk {

absl::StatusOr<uint32_t> parse_ipv4(std::string_view text) {
    const std::string copy(text);
    in_addr address{};
    if (inet_pton(AF_INET, copy.c_str(), &address) != 1) {
        return absl::InvalidArgumentError(absl::StrCat("not an IPv4 address: '", copy, "'"));
    }
    return ntohl(address.s_addr);
}

std::string format_ipv4(uint32_t ipv4) {
    return absl::StrCat(ipv4 >> 24, ".", (ipv4 >> 16) & 0xff, ".", (ipv4 >> 8) & 0xff, ".",
                        ipv4 & 0xff);
}

}  // namespace ringlog::net::dpdk
