// Controller: the one place where topics change. It runs on shard 0, serializes every create,
// delete and partition change with a mutex, writes the topic file before partitions exist and
// removes it after they are gone, asks each owning shard to open or close its partitions, then
// hands every shard the new catalog. Handlers on any shard reach it with submit_to(shard 0).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include "core/catalog.h"
#include "core/shard.h"
#include "core/topic_store.h"
#include "io/async_mutex.h"
#include "io/task.h"

namespace ringlog::core {

class Broker;

inline constexpr ShardId controller_shard{0};

struct CreateTopicRequest {
    std::string name;
    int32_t partitions = -1;  // -1: the broker's default
    int16_t replication_factor = -1;
    std::vector<std::pair<std::string, std::string>> configs;
    bool validate_only = false;
};

// Contract: created, used and destroyed on the controller shard.
class Controller {
public:
    explicit Controller(Broker& broker);

    // Loads the topics from disk, opens every partition on its shard and publishes the catalog.
    [[nodiscard]] io::Task<absl::Status> load();

    // The topic as created (or as it would be, for validate_only). Error codes as statuses:
    // kAlreadyExists, kInvalidArgument (name, partitions, replication factor or config; the
    // message says which), or an I/O failure.
    [[nodiscard]] io::Task<absl::StatusOr<TopicInfo>> create_topic(CreateTopicRequest request);

    // kNotFound when there is no such topic.
    [[nodiscard]] io::Task<absl::Status> delete_topic(std::string name);

    // Grows the topic to `count` partitions. kNotFound, kInvalidArgument (not more than now).
    [[nodiscard]] io::Task<absl::Status> add_partitions(std::string name, int32_t count,
                                                        bool validate_only);

private:
    io::Task<absl::Status> open_partitions(const TopicInfo& topic, int32_t first);
    io::Task<void> publish(CatalogRef catalog);

    Broker& broker_;
    TopicStore store_;
    CatalogRef catalog_;
    io::AsyncMutex mutex_;
};

}  // namespace ringlog::core
