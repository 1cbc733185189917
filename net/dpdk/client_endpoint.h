// ClientEndpoint and ClientSession: the client's side of the datagram protocol (the project's
// own test client, and the transport under `ringlog bench --transport dpdk|udp`). One endpoint
// per client thread owns a PacketIo and polls it from that thread's reactor; it holds one
// session per broker shard. A session sends Kafka request frames and awaits their responses:
// it splits requests into fragments, pulls the fragments of large responses, keeps to the
// server's credits and window, and retransmits on timeout with exponential back-off.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include <absl/status/statusor.h>

#include "io/event.h"
#include "io/reactor.h"
#include "io/task.h"
#include "net/dpdk/packet_io.h"
#include "net/dpdk/session_grant.h"
#include "net/dpdk/tx_batch.h"
#include "net/dpdk/wire.h"

namespace ringlog::net::dpdk {

struct ClientOptions {
    // eRPC's choice: about a millisecond, far above a datacentre round trip, doubling while
    // nothing comes back, up to retransmit_timeout_max.
    std::chrono::nanoseconds retransmit_timeout = std::chrono::milliseconds(1);
    std::chrono::nanoseconds retransmit_timeout_max = std::chrono::milliseconds(64);
    // A call fails with kUnavailable after this many retransmissions without progress: about
    // 30 s at the defaults, Kafka's request.timeout.ms. The broker does not answer a request
    // while it runs, and an acks=all produce runs until its sync, which on a loaded machine
    // took longer than the 2.5 s this once was (client tests failed that way under load).
    uint32_t retransmits_max = 475;
    size_t receive_burst = 32;
    // Whether the reactor keeps spinning while a call waits for its answer (true), or backs off
    // into waits in the kernel like an idle one (false). Spinning is right when the client has
    // a core to itself and the PacketIo cannot wake it (DPDK); a kernel socket arms a wake-up
    // before each wait (PacketIo::arm_wakeup), so over UDP, and on a machine with fewer cores
    // than busy threads, not spinning lets the scheduler run the peer instead.
    bool spin_while_waiting = true;
};

// Counters for tests and metrics; they only grow.
struct ClientStats {
    uint64_t calls = 0;
    uint64_t calls_failed = 0;
    uint64_t retransmits = 0;    // timeouts that sent something again
    uint64_t packets_sent = 0;   // request fragments and pulls
    uint64_t stray_packets = 0;  // answers to nothing in flight (late duplicates)
};

class ClientEndpoint;

// Contract: made by ClientEndpoint::add_session and owned by it; used on its reactor.
class ClientSession {
public:
    // Sends one request: a Kafka request frame without its 4-byte size prefix, whose bytes stay
    // valid until the call completes. Returns the response frame, also without its prefix, or
    // empty when the broker sends none (a produce with acks=0). Up to the granted window of
    // calls run at once; more wait their turn. kUnavailable after retransmits_max
    // retransmissions went unanswered.
    [[nodiscard]] io::Task<absl::StatusOr<std::vector<std::byte>>> call(Bytes request);

    size_t in_flight() const { return in_flight_; }

    const SessionGrant& grant() const { return grant_; }

    Endpoint server() const { return server_; }

private:
    friend class ClientEndpoint;

    struct Call {
        uint64_t sequence = 0;
        bool active = false;
        bool finished = false;
        Bytes request;
        uint16_t request_fragments = 0;
        uint16_t next_fragment = 0;  // the next request fragment to (re)send
        std::vector<bool> acked;
        bool response_started = false;
        uint16_t response_fragments = 0;
        uint32_t response_held = 0;
        uint16_t next_pull = 1;
        std::vector<bool> have;
        std::vector<std::byte> response;
        uint32_t outstanding = 0;  // packets sent and not yet answered
        std::chrono::steady_clock::time_point deadline;
        std::chrono::nanoseconds timeout{};
        uint32_t retransmits = 0;
        absl::Status failure;
        io::Notify done;
    };

    ClientSession(ClientEndpoint& endpoint, Endpoint server, const SessionGrant& grant);

    void pump(TxBatch& tx);
    void on_packet(const PacketHeader& header, Bytes payload,
                   std::chrono::steady_clock::time_point now);
    void check_timeouts(std::chrono::steady_clock::time_point now);
    void complete(Call& call, absl::Status failure);
    void give_back(uint32_t packets);

    ClientEndpoint& endpoint_;
    Endpoint server_;
    SessionGrant grant_;
    uint32_t payload_bytes_max_;
    std::vector<Call> calls_;  // by sequence % window
    uint64_t next_sequence_ = 1;
    uint64_t oldest_active_ = 1;
    uint32_t credits_;
    size_t in_flight_ = 0;
    io::Notify slot_free_;
};

// Contract: created and destroyed on its reactor's thread, with no call in flight at
// destruction; the PacketIo outlives it. It polls from construction on.
class ClientEndpoint final : public io::Poller {
public:
    ClientEndpoint(io::Reactor& reactor, PacketIo& io, ClientOptions options = {});
    ~ClientEndpoint();

    ClientEndpoint(const ClientEndpoint&) = delete;
    ClientEndpoint& operator=(const ClientEndpoint&) = delete;

    // A session with the server at `server`, opened there as `grant` says.
    ClientSession& add_session(Endpoint server, const SessionGrant& grant);

    bool poll() override;

    void before_wait() override { io_.arm_wakeup(reactor_); }

    PacketIo& io() { return io_; }

    io::Reactor& reactor() { return reactor_; }

    const ClientOptions& options() const { return options_; }

    const ClientStats& stats() const { return stats_; }

private:
    friend class ClientSession;

    io::Reactor& reactor_;
    PacketIo& io_;
    ClientOptions options_;
    std::vector<std::unique_ptr<ClientSession>> sessions_;
    std::vector<ReceivedPacket> received_;
    TxBatch tx_;
    ClientStats stats_;
};

}  // namespace ringlog::net::dpdk
