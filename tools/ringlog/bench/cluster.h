// What the load generator learns before it sends data: the API versions both sides speak, the
// brokers and which one leads each partition of the topic (with --advertise-shards every shard
// of ringlogd is a broker of its own, and each partition must go to its leader), creating the
// topic first when it is missing; and the partitions' offsets, for consumers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <absl/status/statusor.h>

#include "io/reactor.h"
#include "io/task.h"
#include "tools/ringlog/bench/options.h"

namespace ringlog::tools::bench {

// The highest version of each API that the codec and the broker both support.
struct ApiVersionsChosen {
    int16_t produce = -1;
    int16_t fetch = -1;
    int16_t metadata = -1;
    int16_t list_offsets = -1;
    int16_t create_topics = -1;
};

struct BrokerAddress {
    int32_t node_id = 0;
    std::string host;
    uint16_t port = 0;
};

struct ClusterView {
    ApiVersionsChosen versions;
    std::vector<BrokerAddress> brokers;
    std::vector<int32_t> leaders;  // leaders[p]: the node id leading partition p

    const BrokerAddress* broker(int32_t node_id) const;
};

// Connects to options.bootstrap_*, creates options.topic with options.partitions partitions if
// it does not exist, and waits (up to 30 s) until every partition has a leader.
[[nodiscard]] io::Task<absl::StatusOr<ClusterView>> discover_cluster(io::Reactor& reactor,
                                                                     const BenchOptions& options);

// Each partition's offset at `timestamp` (-1 latest, -2 earliest), asked of its leader.
[[nodiscard]] io::Task<absl::StatusOr<std::vector<int64_t>>> list_offsets(
    io::Reactor& reactor, const ClusterView& cluster, std::string topic, int64_t timestamp);

}  // namespace ringlog::tools::bench
