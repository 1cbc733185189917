// PacketIo: the seam under the datagram protocol (session.h). A burst of UDP datagrams in, a
// burst out, each with the peer's IPv4 address and port. Three implementations: DPDK (an
// rte_eth queue, Ethernet/IPv4/UDP built and parsed here), the kernel's UDP socket, and an
// in-memory network for tests (with a fault shim). It knows datagrams, not sessions.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include <absl/status/statusor.h>

namespace ringlog::io {
class Reactor;
}

namespace ringlog::net::dpdk {

using Bytes = std::span<const std::byte>;

// An IPv4 address and UDP port, both in host byte order.
struct Endpoint {
    uint32_t ipv4 = 0;
    uint16_t port = 0;

    friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

// "a.b.c.d" and back; kInvalidArgument for anything else.
[[nodiscard]] absl::StatusOr<uint32_t> parse_ipv4(std::string_view text);
std::string format_ipv4(uint32_t ipv4);

// A received datagram: its UDP payload, parsed in place in the implementation's buffer (an
// mbuf, a socket slot), which stays ours until release(token).
struct ReceivedPacket {
    Endpoint source;
    Bytes payload;
    uintptr_t token = 0;
    uint32_t link = 0;  // which member of a PacketIoGroup received it (packet_io_group.h)
};

// What keeps a packet's payload bytes valid after transmit() returns: a count of references,
// taken and dropped on the PacketIo's own thread (plain integers, as for io::BufferRef). An
// implementation that sends the bytes in place (DPDK external buffers, dpdk_port.h) retains it
// once per packet segment that points at them and releases it when the device is done with
// that segment; one that copies never touches it.
class PayloadPin {
public:
    virtual void retain() = 0;
    virtual void release() = 0;

protected:
    ~PayloadPin() = default;
};

// A datagram to send: `header` then the `payload` segments, gathered. Without a `pin` the
// bytes need to stay valid only until transmit() returns (the implementation copies them);
// with one, the payload stays valid while the pin is held, so it may be sent in place.
struct OutgoingPacket {
    Endpoint target;
    Bytes header;
    std::span<const Bytes> payload;
    PayloadPin* pin = nullptr;
};

struct PacketIoStats {
    uint64_t received = 0;
    uint64_t transmitted = 0;
    uint64_t transmit_full = 0;  // packets refused because the queue or socket buffer was full
    uint64_t receive_bytes = 0;
    uint64_t transmit_bytes = 0;
    uint64_t dropped_malformed = 0;  // frames that were not IPv4/UDP for us (DPDK)
    // DPDK: payload pieces sent in place as external-buffer segments, and payload bytes
    // copied into frames (headers excluded) because a packet had no pin, the piece was small,
    // or external buffers are off.
    uint64_t transmit_external_segments = 0;
    uint64_t transmit_copied_bytes = 0;
};

// Contract: used from one thread (the shard's or the client's). Nothing blocks: receive()
// returns what is there, transmit() what fits.
class PacketIo {
public:
    virtual ~PacketIo() = default;

    // Fills up to packets.size() entries; returns how many. Each must be released once; while
    // many are held, receive() may return fewer (the buffers are the back-pressure).
    virtual size_t receive(std::span<ReceivedPacket> packets) = 0;

    virtual void release(const ReceivedPacket& packet) = 0;

    // Sends the first n packets and returns n; those after were refused (a full queue) and the
    // caller may drop them: the protocol retransmits.
    virtual size_t transmit(std::span<const OutgoingPacket> packets) = 0;

    // The largest UDP payload (our header included) that one datagram may carry, both ways.
    virtual size_t datagram_bytes_max() const = 0;

    // Where peers send to reach this one.
    virtual Endpoint local_endpoint() const = 0;

    // The 6-byte Ethernet address peers put in their frames (DPDK); empty for a kernel socket.
    virtual std::string hardware_address() const { return {}; }

    virtual const PacketIoStats& stats() const = 0;

    // The poller is about to let `reactor` wait in the kernel: an implementation that the
    // kernel can announce (a socket) arms a completion for its next datagram there, so the
    // wait ends when one arrives. A DPDK queue cannot: its waits last the back-off time.
    virtual void arm_wakeup(io::Reactor& reactor) { (void)reactor; }
};

}  // namespace ringlog::net::dpdk
