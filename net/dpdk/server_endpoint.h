// ServerEndpoint: one shard's side of the datagram protocol. It polls its PacketIo from the
// shard's reactor (an io::Poller), reassembles request fragments into Kafka request frames,
// runs each exactly once through a tcp::FrameHandler (the same handler type that serves TCP
// connections, so core/'s Kafka handlers never learn which transport a request came by), and
// answers with response fragments. It keeps each session's recent responses by sequence number:
// a retransmitted request is answered from there, never executed again. It sends nothing
// unasked: every packet it sends answers one the client sent, so the client alone keeps timers.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include <absl/container/flat_hash_map.h>
#include <absl/status/statusor.h>

#include "io/reactor.h"
#include "io/task.h"
#include "io/task_group.h"
#include "net/dpdk/cached_response.h"
#include "net/dpdk/packet_io.h"
#include "net/dpdk/session_grant.h"
#include "net/dpdk/tx_batch.h"
#include "net/dpdk/wire.h"
#include "net/tcp/connection.h"

namespace ringlog::net::dpdk {

struct ServerOptions {
    uint32_t window = 32;        // requests in flight per session; the cache has that many
    uint32_t credits = 32;       // packets a client may have unanswered per session
    size_t sessions_max = 1024;  // sessions per endpoint; see session_idle_timeout
    // When the table is full, opening a session first closes those that sent nothing for this
    // long and have no request executing; only if none qualifies is it kResourceExhausted.
    // Clients that went away without a word (there is no close message) free their slot so.
    std::chrono::nanoseconds session_idle_timeout = std::chrono::seconds(60);
    size_t message_bytes_max = 16 * 1024 * 1024;  // a larger request is dropped unanswered
    uint32_t session_id_base = 1;  // ids count up from here (shards use disjoint ranges)
    size_t receive_burst = 32;
};

// Counters for tests and metrics; they only grow.
struct ServerStats {
    uint64_t requests_executed = 0;
    uint64_t requests_in_place = 0;   // single-fragment requests parsed in the receive buffer
    uint64_t duplicate_requests = 0;  // answered from the cache (or ignored while executing)
    uint64_t responses_resent = 0;    // first response fragments sent again
    uint64_t fragments_sent = 0;      // response fragments
    uint64_t acks_sent = 0;
    uint64_t pulls = 0;
    uint64_t dropped_unknown = 0;   // no such session, or not our protocol
    uint64_t dropped_stale = 0;     // for a sequence number the cache has moved past
    uint64_t dropped_busy = 0;      // a new request for a slot still executing
    uint64_t sessions_expired = 0;  // closed for idleness to make room
};

// Contract: created, started, stopped and destroyed on the reactor's thread; the PacketIo and
// the handler outlive it. start() registers the poller; stop() unregisters it and returns once
// every request being executed has finished. Requests of one session may run concurrently (up
// to the window) and complete in any order, as in eRPC; a client that needs Kafka's
// per-connection ordering waits for each response.
class ServerEndpoint final : public io::Poller {
public:
    ServerEndpoint(io::Reactor& reactor, PacketIo& io, tcp::FrameHandler& handler,
                   ServerOptions options = {});
    ~ServerEndpoint();

    ServerEndpoint(const ServerEndpoint&) = delete;
    ServerEndpoint& operator=(const ServerEndpoint&) = delete;

    void start();

    [[nodiscard]] io::Task<void> stop();

    // A new session for a client whose PacketIo carries datagrams of up to
    // `client_datagram_bytes_max`.
    [[nodiscard]] absl::StatusOr<SessionGrant> open_session(uint32_t client_datagram_bytes_max);

    bool poll() override;

    void before_wait() override { io_.arm_wakeup(reactor_); }

    PacketIo& io() { return io_; }

    const ServerStats& stats() const { return stats_; }

    size_t session_count() const { return sessions_.size(); }

private:
    enum class SlotState : uint8_t { empty, receiving, executing, done };

    struct Slot {
        uint64_t sequence = 0;
        SlotState state = SlotState::empty;
        Endpoint client;
        uint32_t message_bytes = 0;
        uint16_t fragment_count = 0;
        uint32_t fragments_held = 0;
        std::vector<bool> have;
        std::vector<std::byte> assembly;
        // The cached answer (owning what its segments point at, the log's buffers for a fetch);
        // packets in flight may hold it a little longer (cached_response.h).
        CachedResponseRef response;
        uint32_t response_bytes = 0;
        uint16_t response_fragments = 1;
    };

    struct Session {
        uint32_t id = 0;
        uint32_t payload_bytes_max = 0;  // per fragment, both ways
        std::chrono::steady_clock::time_point last_heard;
        uint32_t executing = 0;  // slots in SlotState::executing
        std::vector<Slot> slots;
    };

    void expire_idle_sessions();

    void on_packet(const ReceivedPacket& packet, bool& keep);
    void on_request(Session& session, const PacketHeader& header, const ReceivedPacket& packet,
                    bool& keep);
    void on_pull(Session& session, const PacketHeader& header, Endpoint source);
    void send_ack(const Session& session, const PacketHeader& request, Endpoint target);
    void send_response(const Session& session, const Slot& slot, uint16_t index, Endpoint target);
    void finish(Session& session, Slot& slot, std::optional<tcp::Response> response);

    io::Task<void> execute(Session& session, Slot& slot, uint64_t sequence, Bytes frame,
                           std::optional<ReceivedPacket> held);

    io::Reactor& reactor_;
    PacketIo& io_;
    tcp::FrameHandler& handler_;
    ServerOptions options_;
    absl::flat_hash_map<uint32_t, std::unique_ptr<Session>> sessions_;
    uint32_t next_session_id_;
    std::vector<ReceivedPacket> received_;
    std::chrono::steady_clock::time_point now_;  // once per poll
    TxBatch tx_;
    io::TaskGroup tasks_;
    bool polling_ = false;
    ServerStats stats_;
};

}  // namespace ringlog::net::dpdk
