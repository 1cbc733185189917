// Calls from a handler on any shard to the controller on shard 0 (core/controller.h). The
// request travels by value and the answer comes back by value; the handler's shard keeps
// serving other requests meanwhile.
#pragma once

#include <string>

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include "core/broker.h"
#include "core/controller.h"
#include "io/task.h"

namespace ringlog::core::api {

[[nodiscard]] io::Task<absl::StatusOr<TopicInfo>> create_topic(Broker& broker,
                                                               CreateTopicRequest request);

[[nodiscard]] io::Task<absl::Status> delete_topic(Broker& broker, std::string name);

[[nodiscard]] io::Task<absl::Status> add_partitions(Broker& broker, std::string name, int32_t count,
                                                    bool validate_only);

}  // namespace ringlog::core::api
