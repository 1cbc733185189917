// Metadata (key 3): brokers, the controller and topics with their partitions' leaders. With
// --advertise-shards each shard is a broker of its own, so a client sends each partition's
// requests straight to the core that owns it. Unknown topics are created when both the broker
// and (v4+) the request allow it; kafka-python's v0 probe asks for all topics with an empty
// array, later versions with null.
#include "net/kafka/generated/metadata.h"

#include <string>
#include <vector>

#include "core/api/controller_calls.h"
#include "core/api/handlers.h"

namespace ringlog::core::api {
namespace {

using net::kafka::MetadataRequest;
using net::kafka::MetadataResponse;

void describe_topic(const RequestContext& context, const TopicInfo& topic,
                    MetadataResponse::MetadataResponseTopic& out) {
    out.name = topic.name;
    out.topic_id = topic.id;
    out.is_internal = topic.name.rfind("__", 0) == 0;
    out.partitions.reserve(static_cast<size_t>(topic.partitions));
    for (int32_t index = 0; index < topic.partitions; ++index) {
        const int32_t leader =
            context.broker.node_of(shard_for(topic.name, index, context.broker.shard_count()));
        MetadataResponse::MetadataResponsePartition partition;
        partition.partition_index = index;
        partition.leader_id = leader;
        partition.leader_epoch = 0;
        partition.replica_nodes = {leader};
        partition.isr_nodes = {leader};
        out.partitions.push_back(std::move(partition));
    }
}

}  // namespace

io::Task<Reply> handle_metadata(RequestContext& context, net::kafka::Reader& body) {
    auto request = decode_body<MetadataRequest>(context, body);
    if (!request) {
        co_return std::nullopt;
    }
    const Broker& broker = context.broker;
    MetadataResponse response;
    for (int32_t node = 0; node < broker.node_count(); ++node) {
        response.brokers.push_back({.node_id = node,
                                    .host = broker.config().advertised_host,
                                    .port = broker.port_of_node(node),
                                    .rack = std::nullopt});
    }
    response.cluster_id = broker.cluster_id();
    response.controller_id = broker.node_of(controller_shard);

    const bool all_topics =
        !request->topics.has_value() || (context.version() == 0 && request->topics->empty());
    // Holds the catalog the names in `response` point into until the reply is encoded.
    CatalogRef catalog = context.local.catalog_ref();
    std::vector<CatalogRef> catalogs_kept;
    if (all_topics) {
        for (const auto& [name, topic] : catalog->topics()) {
            describe_topic(context, *topic, response.topics.emplace_back());
        }
        co_return encode_reply(context, response);
    }
    const bool may_create = broker.config().auto_create_topics
                            && (context.version() < 4 || request->allow_auto_topic_creation);
    for (const auto& wanted : *request->topics) {
        MetadataResponse::MetadataResponseTopic& out = response.topics.emplace_back();
        out.topic_id = wanted.topic_id;
        if (!wanted.name.has_value()) {
            // v10+: by id only.
            const TopicInfo* topic = catalog->find_id(wanted.topic_id);
            if (topic == nullptr) {
                out.error_code = code(ErrorCode::unknown_topic_id);
            } else {
                describe_topic(context, *topic, out);
            }
            continue;
        }
        out.name = *wanted.name;
        if (const TopicInfo* topic = catalog->find(*wanted.name)) {
            describe_topic(context, *topic, out);
            continue;
        }
        if (!check_topic_name(*wanted.name).ok()) {
            out.error_code = code(ErrorCode::invalid_topic_exception);
            continue;
        }
        if (!may_create) {
            out.error_code = code(ErrorCode::unknown_topic_or_partition);
            continue;
        }
        CreateTopicRequest create;
        create.name = std::string(*wanted.name);
        absl::StatusOr<TopicInfo> created =
            co_await create_topic(context.broker, std::move(create));
        if (!created.ok() && created.status().code() != absl::StatusCode::kAlreadyExists) {
            // The disk refused, say; the client asks again.
            out.error_code = code(ErrorCode::leader_not_available);
            continue;
        }
        catalogs_kept.push_back(std::move(catalog));  // earlier answers point into it
        catalog = context.local.catalog_ref();        // the controller published the new topic
        if (const TopicInfo* topic = catalog->find(*wanted.name)) {
            describe_topic(context, *topic, out);
        } else {
            out.error_code = code(ErrorCode::leader_not_available);
        }
    }
    co_return encode_reply(context, response);
}

}  // namespace ringlog::core::api
