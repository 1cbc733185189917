// UdpPacketIo: the datagram protocol over a kernel UDP socket, for deployments without a DPDK
// NIC and for testing the protocol end to end anywhere. Non-blocking recvmmsg(2)/sendmmsg(2),
// called from the shard's poller, rather than io_uring: the protocol above is a poll loop
// over bursts (it must be, for DPDK), and a burst of up to 32 datagrams per system call fits
// that loop directly, with no completion bridging and no buffer ring to size. The cost is one
// recvmmsg per poll while idle, which the reactor's poll back-off bounds.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <absl/status/statusor.h>

#include "net/dpdk/packet_io.h"

namespace ringlog::net::dpdk {

struct UdpOptions {
    std::string host = "127.0.0.1";  // the address to bind (and to advertise)
    uint16_t port = 0;               // 0: any free port
    // An Ethernet MTU's UDP payload, so a datagram never becomes IP fragments on a real
    // network; loopback would carry 64 KiB, but a real path would not.
    size_t datagram_bytes_max = 1472;
    size_t slots = 512;  // receive buffers; held ones (requests being executed) are taken
    int socket_buffer_bytes = 4 * 1024 * 1024;
};

// Contract: owns the socket; used from one thread.
class UdpPacketIo final : public PacketIo {
public:
    [[nodiscard]] static absl::StatusOr<std::unique_ptr<UdpPacketIo>> open(UdpOptions options);

    ~UdpPacketIo() override;

    size_t receive(std::span<ReceivedPacket> packets) override;
    void release(const ReceivedPacket& packet) override;
    size_t transmit(std::span<const OutgoingPacket> packets) override;

    size_t datagram_bytes_max() const override { return options_.datagram_bytes_max; }

    Endpoint local_endpoint() const override { return local_; }

    const PacketIoStats& stats() const override { return stats_; }

    int fd() const { return fd_; }

    // A one-shot IORING_OP_POLL_ADD for POLLIN on the socket, unless one is armed already.
    void arm_wakeup(io::Reactor& reactor) override;

private:
    class Wakeup;

    UdpPacketIo(UdpOptions options, int fd, Endpoint local);

    UdpOptions options_;
    int fd_;
    Endpoint local_;
    size_t slot_bytes_;  // datagram_bytes_max + 1, so an oversized datagram shows as truncated
    std::vector<std::byte> buffers_;
    std::vector<uint32_t> free_slots_;
    // The armed poll, if any. It frees itself on its completion, so the socket may go while it
    // is armed: the destructor cancels it and detaches.
    Wakeup* wakeup_ = nullptr;
    io::Reactor* wakeup_reactor_ = nullptr;
    PacketIoStats stats_;
};

}  // namespace ringlog::net::dpdk
