#include "core/api/controller_calls.h"

namespace ringlog::core::api {

// Each lambda is a named local: g++ 12 destroys a temporary with non-trivial captures inside a
// co_await expression twice.

io::Task<absl::StatusOr<TopicInfo>> create_topic(Broker& broker, CreateTopicRequest request) {
    auto call = [&broker, request = std::move(request)]() mutable {
        return broker.controller().create_topic(std::move(request));
    };
    co_return co_await broker.shards().submit_to(controller_shard, std::move(call));
}

io::Task<absl::Status> delete_topic(Broker& broker, std::string name) {
    auto call = [&broker, name = std::move(name)]() mutable {
        return broker.controller().delete_topic(std::move(name));
    };
    co_return co_await broker.shards().submit_to(controller_shard, std::move(call));
}

io::Task<absl::Status> add_partitions(Broker& broker, std::string name, int32_t count,
                                      bool validate_only) {
    auto call = [&broker, name = std::move(name), count, validate_only]() mutable {
        return broker.controller().add_partitions(std::move(name), count, validate_only);
    };
    co_return co_await broker.shards().submit_to(controller_shard, std::move(call));
}

}  // namespace ringlog::core::api
