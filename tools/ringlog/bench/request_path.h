// RequestPath: how one bench connection's data requests (Produce, Fetch) reach a broker, so
// every bench mode runs over the same transport as chosen with --transport: a TCP connection,
// or a session of the datagram transport (kernel UDP or DPDK, tools/ringlog/datagram_client.h).
// Both keep TCP's contract: send() a whole frame (with its 4-byte size prefix), next_frame()
// gives the responses in request order. The datagram session may answer out of order (its
// window); DatagramPath puts the answers back in request order. Requests for one partition
// in flight at once may still be applied out of order on the datagram path; run with
// --inflight 1 where the per-partition order of produced messages matters.
//
// RequestPaths makes them, one per worker thread: over the datagram transport that worker's
// connections share one DatagramClient (its PacketIos, polled by the worker's reactor), each
// with a session of its own. For DPDK this is what lets several bench threads share one EAL:
// worker w owns DPDK ports w x S ... w x S + S - 1 (S broker shards), nobody else touches them,
// so the data path needs no lock (datagram_client.h).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include "io/reactor.h"
#include "io/task.h"
#include "tools/ringlog/bench/cluster.h"
#include "tools/ringlog/bench/options.h"
#include "tools/ringlog/datagram_client.h"

namespace ringlog::tools::bench {

// Contract: connected, used and destroyed on one reactor's thread. One send() and one
// next_frame() may be in flight at a time each (a sender and a receiver coroutine).
class RequestPath {
public:
    using Segment = std::span<const std::byte>;

    virtual ~RequestPath() = default;

    // Sends the frame in `segments` (size prefix first); the segments must stay valid until it
    // returns. `expects_response` false (a produce with acks=0): no response will be asked for.
    [[nodiscard]] virtual io::Task<absl::Status> send(std::span<const Segment> segments,
                                                      bool expects_response) = 0;

    // The next response frame, without its size prefix, valid until the next call.
    // kUnavailable once close() was called or the transport failed.
    [[nodiscard]] virtual io::Task<absl::StatusOr<std::span<const std::byte>>> next_frame() = 0;

    // Ends a next_frame() in flight. Idempotent.
    virtual void close() = 0;

    // After close(): waits until nothing is in flight any more (a datagram call ends, at worst,
    // after its retransmissions), so that the path may be destroyed.
    [[nodiscard]] virtual io::Task<void> drain() = 0;
};

// Contract: one per worker thread, on its reactor; outlives every path it made (they may use
// its DatagramClient until drained).
class RequestPaths {
public:
    // `worker` numbers the worker among all of the run's (it picks the DPDK ports).
    RequestPaths(io::Reactor& reactor, const BenchOptions& options, int worker);
    ~RequestPaths();

    RequestPaths(const RequestPaths&) = delete;
    RequestPaths& operator=(const RequestPaths&) = delete;

    // Connects over options.transport: tcp to `leader`; udp or dpdk to the bootstrap broker's
    // datagram transport, on a new session with the broker shard owning `partition`.
    [[nodiscard]] io::Task<absl::StatusOr<std::unique_ptr<RequestPath>>> connect(
        const BrokerAddress& leader, int32_t partition);

private:
    io::Reactor& reactor_;
    const BenchOptions& options_;
    int worker_;
    std::unique_ptr<DatagramClient> datagram_;  // made by the first datagram connect()
};

}  // namespace ringlog::tools::bench
