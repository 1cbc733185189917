// RequestPath: how one bench connection's data requests (Produce, Fetch) reach a broker, so
// every bench mode runs over the same transport as chosen with --transport: a TCP connection,
// or a session of the datagram transport (kernel UDP or DPDK, tools/ringlog/datagram_client.h).
// Both keep TCP's contract: send() a whole frame (with its 4-byte size prefix), next_frame()
// gives the responses in request order. The datagram session may answer out of order (its
// window); DatagramPath puts the answers back in request order. Requests for one partition
// in flight at once may still be applied out of order on the datagram path; run with
// --inflight 1 where the per-partition order of produced messages matters.
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

// Connects over options.transport: tcp to `leader`; udp or dpdk to the bootstrap broker's
// datagram transport, on the session of the broker shard owning `partition` of the topic.
[[nodiscard]] io::Task<absl::StatusOr<std::unique_ptr<RequestPath>>> connect_request_path(
    io::Reactor& reactor, const BenchOptions& options, const BrokerAddress& leader,
    int32_t partition);

}  // namespace ringlog::tools::bench
