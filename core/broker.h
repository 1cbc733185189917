// Broker: the whole ringlogd process. It starts the shards, builds each shard's state and
// server, loads the topics through the controller, starts the datagram transport (if
// configured) after the TCP listeners, and stops everything in order on request: listeners
// and datagram endpoints first, then connections (their requests finish), then the logs
// (synced), then the shard threads. main() drives it from outside the shards; everything else runs
// on them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <absl/status/status.h>

#include "core/broker_config.h"
#include "core/controller.h"
#include "core/group/coordinator.h"
#include "core/producer_ids.h"
#include "core/shard_local.h"
#include "core/shard_set.h"
#include "core/topic_config.h"
#include "io/buffer.h"

namespace ringlog::core {

class DatagramServer;
class KafkaServer;
class MetricsServer;

// Contract: start() and stop() from one thread that is not a shard (main). Between them,
// code on shard i may use local() (its own state) and, on shard 0, controller().
class Broker {
public:
    explicit Broker(BrokerConfig config);
    ~Broker();

    Broker(const Broker&) = delete;
    Broker& operator=(const Broker&) = delete;

    // Returns once every listener is up ("ready"), or the first failure (after undoing).
    [[nodiscard]] absl::Status start();

    // Stops accepting, lets in-flight requests finish, syncs and closes every log.
    [[nodiscard]] absl::Status stop();

    const BrokerConfig& config() const { return config_; }

    const TopicDefaults& defaults() const { return defaults_; }

    ShardSet& shards() { return *shards_; }

    int shard_count() const { return shards_->count(); }

    // The calling shard's state.
    ShardLocal& local() { return *locals_[Shard::current().id().value()]; }

    // Another shard's state: only for code running on that shard (asserted in debug builds).
    ShardLocal& local_of(ShardId shard) {
        RL_DASSERT(Shard::current().id() == shard);
        return *locals_[shard.value()];
    }

    // The calling shard's consumer groups, and another shard's (only for code running there).
    group::GroupCoordinator& groups() { return *coordinators_[Shard::current().id().value()]; }

    // As groups_of, but nullptr while the coordinators are not (or no longer) there.
    group::GroupCoordinator* groups_or_null(ShardId shard) {
        RL_DASSERT(Shard::current().id() == shard);
        return shard.value() < coordinators_.size() ? coordinators_[shard.value()].get() : nullptr;
    }

    group::GroupCoordinator& groups_of(ShardId shard) {
        RL_DASSERT(Shard::current().id() == shard);
        return *coordinators_[shard.value()];
    }

    Controller& controller() {
        RL_ASSERT(Shard::current().id() == controller_shard);
        return *controller_;
    }

    // The producer id allocator (InitProducerId), on the controller shard too.
    ProducerIds& producer_ids() {
        RL_ASSERT(Shard::current().id() == controller_shard);
        return *producer_ids_;
    }

    // The broker id Metadata gives the leader of partitions on `shard`: the shard's own id with
    // --advertise-shards, else the one broker id 0.
    int32_t node_of(ShardId shard) const {
        return config_.advertise_shards ? static_cast<int32_t>(shard.value()) : 0;
    }

    // The port of broker `node` in Metadata.
    int32_t port_of_node(int32_t node) const { return config_.port + node; }

    int32_t node_count() const { return config_.advertise_shards ? shard_count() : 1; }

    const std::string& cluster_id() const { return cluster_id_; }

    // The datagram transport of `shard` (nullptr when it has none), for code running there.
    DatagramServer* datagram_server_of(ShardId shard) {
        RL_DASSERT(Shard::current().id() == shard);
        return shard.value() < datagram_servers_.size() ? datagram_servers_[shard.value()].get()
                                                        : nullptr;
    }

private:
    // Runs fn on every shard at once and waits (on the calling, non-shard thread) for all of
    // them; the first failure is returned.
    absl::Status run_everywhere(const std::function<io::Task<absl::Status>(Shard&)>& fn);

    BrokerConfig config_;
    TopicDefaults defaults_;
    std::string cluster_id_;
    std::unique_ptr<ShardSet> shards_;
    // Per shard: the registered chunks the logs' tails live in. They outlive the shards' state
    // and their threads: a view of a chunk may travel to another shard and come back to be
    // released after its log has closed.
    std::vector<std::unique_ptr<io::BufferPool>> tail_pools_;
    std::vector<std::unique_ptr<ShardLocal>> locals_;
    std::vector<std::unique_ptr<group::GroupCoordinator>> coordinators_;
    std::vector<std::unique_ptr<KafkaServer>> servers_;
    std::vector<std::unique_ptr<DatagramServer>> datagram_servers_;
    std::unique_ptr<Controller> controller_;
    std::unique_ptr<MetricsServer> metrics_;  // on the controller shard
    std::unique_ptr<ProducerIds> producer_ids_;
    bool started_ = false;
};

}  // namespace ringlog::core
