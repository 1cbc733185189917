// DescribeConfigs (key 32): a topic's effective configs (its overrides, then the broker's
// defaults) and the broker's own settings, under Kafka's names. Only resource types TOPIC (2)
// and BROKER (4) exist here.
#include "net/kafka/generated/describe_configs.h"

#include <algorithm>
#include <deque>
#include <string>
#include <vector>

#include <absl/strings/numbers.h>
#include <absl/strings/str_cat.h>

#include "core/api/handlers.h"
#include "io/base/absl_compat.h"

namespace ringlog::core::api {
namespace {

using net::kafka::DescribeConfigsRequest;
using net::kafka::DescribeConfigsResponse;

constexpr int8_t topic_resource = 2;
constexpr int8_t broker_resource = 4;
constexpr int8_t source_dynamic_topic = 1;
constexpr int8_t source_static_broker = 4;
constexpr int8_t source_default = 5;

std::vector<TopicConfig::Entry> broker_entries(const Broker& broker) {
    const BrokerConfig& config = broker.config();
    const LogConfig& log = config.log;
    return {
        {"auto.create.topics.enable", config.auto_create_topics ? "true" : "false", true},
        {"broker.id", "0", true},
        {"log.dirs", config.data_dir, true},
        {"log.retention.bytes", absl::StrCat(log.retention_bytes), true},
        {"log.retention.ms", absl::StrCat(log.retention_ms), true},
        {"log.roll.ms", absl::StrCat(log.segment_ms), true},
        {"log.segment.bytes", absl::StrCat(log.segment_bytes), true},
        {"message.max.bytes", absl::StrCat(broker.defaults().max_message_bytes), true},
        {"num.partitions", absl::StrCat(config.default_partitions), true},
        {"port", absl::StrCat(config.port), true},
    };
}

bool wanted(const DescribeConfigsRequest::DescribeConfigsResource& resource,
            std::string_view name) {
    if (!resource.configuration_keys.has_value()) {
        return true;
    }
    const auto& keys = *resource.configuration_keys;
    return std::find(keys.begin(), keys.end(), name) != keys.end();
}

}  // namespace

io::Task<Reply> handle_describe_configs(RequestContext& context, net::kafka::Reader& body) {
    auto request = decode_body<DescribeConfigsRequest>(context, body);
    if (!request) {
        co_return std::nullopt;
    }
    DescribeConfigsResponse response;
    std::deque<std::string> kept;  // the values the response points at
    for (const auto& resource : request->resources) {
        auto& out = response.results.emplace_back();
        out.resource_type = resource.resource_type;
        out.resource_name = resource.resource_name;
        std::vector<TopicConfig::Entry> entries;
        int8_t override_source = source_dynamic_topic;
        if (resource.resource_type == topic_resource) {
            const TopicInfo* topic = context.local.catalog().find(resource.resource_name);
            if (topic == nullptr) {
                out.error_code = code(ErrorCode::unknown_topic_or_partition);
                out.error_message = "no such topic";
                continue;
            }
            entries = topic->config.describe(context.broker.defaults());
        } else if (resource.resource_type == broker_resource) {
            int32_t node = 0;
            if (!resource.resource_name.empty()
                && (!absl::SimpleAtoi(base::to_absl(resource.resource_name), &node) || node < 0
                    || node >= context.broker.node_count())) {
                out.error_code = code(ErrorCode::invalid_request);
                out.error_message = "no such broker";
                continue;
            }
            entries = broker_entries(context.broker);
            override_source = source_static_broker;
        } else {
            out.error_code = code(ErrorCode::invalid_request);
            out.error_message = "only topic and broker configs exist";
            continue;
        }
        for (TopicConfig::Entry& entry : entries) {
            if (!wanted(resource, entry.name)) {
                continue;
            }
            kept.push_back(std::move(entry.name));
            const std::string_view name = kept.back();
            kept.push_back(std::move(entry.value));
            auto& config = out.configs.emplace_back();
            config.name = name;
            config.value = kept.back();
            config.read_only = resource.resource_type == broker_resource;
            config.is_default = !entry.is_override;
            config.config_source = entry.is_override ? override_source : source_default;
            config.is_sensitive = false;
            config.config_type = 0;
        }
    }
    co_return encode_reply(context, response);
}

}  // namespace ringlog::core::api
