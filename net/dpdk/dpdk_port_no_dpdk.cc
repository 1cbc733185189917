// A build without DPDK (RINGLOG_DPDK=OFF, or no libdpdk-dev): the same functions, failing.
#include "net/dpdk/dpdk_port.h"

namespace ringlog::net::dpdk {

bool dpdk_available() {
    return false;
}

absl::Status init_eal(const std::string&) {
    return absl::UnimplementedError("ringlog was built without DPDK (libdpdk-dev)");
}

bool eal_started() {
    return false;
}

uint16_t dpdk_port_count() {
    return 0;
}

absl::StatusOr<std::unique_ptr<PacketIo>> open_dpdk_port(DpdkPortOptions) {
    return absl::UnimplementedError("ringlog was built without DPDK (libdpdk-dev)");
}

}  // namespace ringlog::net::dpdk
