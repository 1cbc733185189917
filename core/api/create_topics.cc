// CreateTopics (key 19): new topics through the controller, with their configs checked
// (retention.ms, retention.bytes, segment.bytes, cleanup.policy, ...). validate_only checks
// everything and creates nothing. There is one copy of each partition, so a replication
// factor other than 1 (or -1, the default) is refused.
#include "net/kafka/generated/create_topics.h"

#include <deque>
#include <string>
#include <vector>

#include "core/api/controller_calls.h"
#include "core/api/handlers.h"
#include "io/base/absl_compat.h"

namespace ringlog::core::api {

using net::kafka::CreateTopicsRequest;
using net::kafka::CreateTopicsResponse;

io::Task<Reply> handle_create_topics(RequestContext& context, net::kafka::Reader& body) {
    auto request = decode_body<CreateTopicsRequest>(context, body);
    if (!request) {
        co_return std::nullopt;
    }
    CreateTopicsResponse response;
    // Strings the response points at (error messages, config values); a deque never moves
    // them, so the views stay valid.
    std::deque<std::string> kept;
    for (const auto& topic : request->topics) {
        auto& out = response.topics.emplace_back();
        out.name = topic.name;
        CreateTopicRequest create{.name = std::string(topic.name),
                                  .partitions = topic.num_partitions,
                                  .replication_factor = topic.replication_factor,
                                  .configs = {},
                                  .validate_only = request->validate_only};
        if (!topic.assignments.empty()) {
            create.partitions = static_cast<int32_t>(topic.assignments.size());
        }
        for (const auto& config : topic.configs) {
            if (config.value.has_value()) {
                create.configs.emplace_back(std::string(config.name), std::string(*config.value));
            }
        }
        absl::StatusOr<TopicInfo> created =
            co_await create_topic(context.broker, std::move(create));
        if (!created.ok()) {
            out.error_code = code(error_for_topic_change(created.status()));
            kept.emplace_back(created.status().message());
            out.error_message = kept.back();
            continue;
        }
        out.topic_id = created->id;
        out.num_partitions = created->partitions;
        out.replication_factor = 1;
        if (context.version() >= 5) {
            out.configs.emplace();
            for (const TopicConfig::Entry& entry :
                 created->config.describe(context.broker.defaults())) {
                kept.push_back(entry.name);
                const std::string_view name = kept.back();
                kept.push_back(entry.value);
                out.configs->push_back({.name = name,
                                        .value = kept.back(),
                                        .read_only = false,
                                        .config_source = static_cast<int8_t>(
                                            entry.is_override ? 1 : 5),  // DYNAMIC_TOPIC, DEFAULT
                                        .is_sensitive = false});
            }
        }
    }
    co_return encode_reply(context, response);
}

ErrorCode error_for_topic_change(const absl::Status& status) {
    const std::string_view message = base::to_std(status.message());
    switch (status.code()) {
        case absl::StatusCode::kOk:
            return ErrorCode::none;
        case absl::StatusCode::kAlreadyExists:
            return ErrorCode::topic_already_exists;
        case absl::StatusCode::kNotFound:
            return ErrorCode::unknown_topic_or_partition;
        case absl::StatusCode::kInvalidArgument:
            if (message.find("partition") != std::string_view::npos) {
                return ErrorCode::invalid_partitions;
            }
            if (message.find("replication") != std::string_view::npos) {
                return ErrorCode::invalid_replication_factor;
            }
            if (message.find("topic name") != std::string_view::npos) {
                return ErrorCode::invalid_topic_exception;
            }
            return ErrorCode::invalid_config;
        default:
            return ErrorCode::kafka_storage_error;
    }
}

}  // namespace ringlog::core::api
