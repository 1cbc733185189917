// discover_cluster and list_offsets: see cluster.h.
#include "tools/ringlog/bench/cluster.h"

#include <algorithm>
#include <chrono>
#include <map>

#include <absl/strings/str_cat.h>

#include "io/base/absl_compat.h"
#include "net/kafka/generated/api_keys.h"
#include "net/kafka/generated/api_versions.h"
#include "net/kafka/generated/create_topics.h"
#include "net/kafka/generated/fetch.h"
#include "net/kafka/generated/list_offsets.h"
#include "net/kafka/generated/metadata.h"
#include "net/kafka/generated/produce.h"
#include "tools/ringlog/bench/kafka_client.h"

namespace ringlog::tools::bench {

namespace {

using net::kafka::ApiKey;
using net::kafka::ErrorCode;

absl::StatusOr<ApiVersionsChosen> choose_versions(const net::kafka::ApiVersionsResponse& response) {
    ApiVersionsChosen chosen;
    chosen.produce = common_version<net::kafka::ProduceRequest>(response);
    chosen.fetch = common_version<net::kafka::FetchRequest>(response);
    chosen.metadata = common_version<net::kafka::MetadataRequest>(response);
    chosen.list_offsets = common_version<net::kafka::ListOffsetsRequest>(response);
    chosen.create_topics = common_version<net::kafka::CreateTopicsRequest>(response);
    // Produce v3+ carries magic v2 batches, the only kind the bench builds.
    if (chosen.produce < 3 || chosen.fetch < 4 || chosen.metadata < 1 || chosen.list_offsets < 1) {
        return absl::FailedPreconditionError(
            "the broker lacks Produce v3+, Fetch v4+, Metadata v1+ or ListOffsets v1+");
    }
    return chosen;
}

// One Metadata round for the topic: the brokers and leaders, or an empty leader list when the
// topic is missing or some partition has no leader yet.
io::Task<absl::Status> read_metadata(KafkaClient& client, const BenchOptions& options,
                                     ClusterView& view, bool& topic_missing) {
    net::kafka::MetadataRequest request;
    request.topics.emplace();
    request.topics->emplace_back();
    request.topics->back().name = options.topic;
    request.allow_auto_topic_creation = false;
    net::kafka::MetadataResponse response;
    RL_CO_RETURN_IF_ERROR(co_await client.call(request, view.versions.metadata, response));
    view.brokers.clear();
    for (const auto& broker : response.brokers) {
        view.brokers.push_back(BrokerAddress{.node_id = broker.node_id,
                                             .host = std::string(broker.host),
                                             .port = static_cast<uint16_t>(broker.port)});
    }
    view.leaders.clear();
    topic_missing = true;
    for (const auto& topic : response.topics) {
        if (!topic.name.has_value() || *topic.name != options.topic) {
            continue;
        }
        if (topic.error_code == static_cast<int16_t>(ErrorCode::unknown_topic_or_partition)) {
            break;
        }
        topic_missing = false;
        std::vector<int32_t> leaders(topic.partitions.size(), -1);
        for (const auto& partition : topic.partitions) {
            if (partition.partition_index >= 0
                && static_cast<size_t>(partition.partition_index) < leaders.size()
                && partition.error_code == 0) {
                leaders[static_cast<size_t>(partition.partition_index)] = partition.leader_id;
            }
        }
        const bool all_led = std::none_of(leaders.begin(), leaders.end(), [&](int32_t leader) {
            return view.broker(leader) == nullptr;
        });
        if (all_led && !leaders.empty()) {
            view.leaders = std::move(leaders);
        }
    }
    co_return absl::OkStatus();
}

io::Task<absl::Status> create_topic(KafkaClient& client, const BenchOptions& options,
                                    int16_t version) {
    net::kafka::CreateTopicsRequest request;
    request.topics.emplace_back();
    request.topics.back().name = options.topic;
    request.topics.back().num_partitions = options.partitions;
    request.topics.back().replication_factor = 1;
    for (const auto& [name, value] : options.topic_configs) {
        request.topics.back().configs.emplace_back();
        request.topics.back().configs.back().name = name;
        request.topics.back().configs.back().value = value;
    }
    request.timeout_ms = 30000;
    net::kafka::CreateTopicsResponse response;
    RL_CO_RETURN_IF_ERROR(co_await client.call(request, version, response));
    for (const auto& topic : response.topics) {
        if (topic.error_code != 0
            && topic.error_code != static_cast<int16_t>(ErrorCode::topic_already_exists)) {
            co_return absl::FailedPreconditionError(
                absl::StrCat("create topic ", options.topic, ": error ", topic.error_code));
        }
    }
    co_return absl::OkStatus();
}

}  // namespace

const BrokerAddress* ClusterView::broker(int32_t node_id) const {
    for (const BrokerAddress& address : brokers) {
        if (address.node_id == node_id) {
            return &address;
        }
    }
    return nullptr;
}

io::Task<absl::StatusOr<ClusterView>> discover_cluster(io::Reactor& reactor,
                                                       const BenchOptions& options) {
    RL_CO_ASSIGN_OR_RETURN(
        std::unique_ptr<KafkaClient> client,
        co_await KafkaClient::connect(reactor, options.bootstrap_host, options.bootstrap_port));
    ClusterView view;
    {
        net::kafka::ApiVersionsRequest request;
        request.client_software_name = client_id;
        request.client_software_version = "1";
        net::kafka::ApiVersionsResponse response;
        RL_CO_RETURN_IF_ERROR(co_await client->call(request, 3, response));
        if (response.error_code != 0) {
            co_return absl::FailedPreconditionError(
                absl::StrCat("ApiVersions: error ", response.error_code));
        }
        RL_CO_ASSIGN_OR_RETURN(view.versions, choose_versions(response));
    }
    bool created = false;
    const auto deadline = reactor.now() + std::chrono::seconds(30);
    for (;;) {
        bool missing = false;
        RL_CO_RETURN_IF_ERROR(co_await read_metadata(*client, options, view, missing));
        if (!view.leaders.empty()) {
            break;
        }
        if (missing && !created) {
            if (view.versions.create_topics < 0) {
                co_return absl::FailedPreconditionError(absl::StrCat(
                    "topic ", options.topic, " is missing and the broker has no CreateTopics"));
            }
            RL_CO_RETURN_IF_ERROR(
                co_await create_topic(*client, options, view.versions.create_topics));
            created = true;
            continue;
        }
        if (reactor.now() > deadline) {
            co_return absl::DeadlineExceededError(
                absl::StrCat("topic ", options.topic, ": partitions without a leader after 30 s"));
        }
        co_await reactor.sleep_for(std::chrono::milliseconds(50));
    }
    client->close();
    co_return view;
}

io::Task<absl::StatusOr<std::vector<int64_t>>> list_offsets(io::Reactor& reactor,
                                                            const ClusterView& cluster,
                                                            std::string topic, int64_t timestamp) {
    std::vector<int64_t> offsets(cluster.leaders.size(), -1);
    std::map<int32_t, std::vector<int32_t>> by_leader;
    for (size_t p = 0; p < cluster.leaders.size(); ++p) {
        by_leader[cluster.leaders[p]].push_back(static_cast<int32_t>(p));
    }
    for (const auto& [leader, partitions] : by_leader) {
        const BrokerAddress* address = cluster.broker(leader);
        RL_CO_ASSIGN_OR_RETURN(
            std::unique_ptr<KafkaClient> client,
            co_await KafkaClient::connect(reactor, address->host, address->port));
        net::kafka::ListOffsetsRequest request;
        request.replica_id = -1;
        request.topics.emplace_back();
        request.topics.back().name = topic;
        for (int32_t partition : partitions) {
            request.topics.back().partitions.emplace_back();
            request.topics.back().partitions.back().partition_index = partition;
            request.topics.back().partitions.back().timestamp = timestamp;
        }
        net::kafka::ListOffsetsResponse response;
        RL_CO_RETURN_IF_ERROR(
            co_await client->call(request, cluster.versions.list_offsets, response));
        for (const auto& topic_response : response.topics) {
            for (const auto& partition : topic_response.partitions) {
                if (partition.error_code != 0) {
                    co_return absl::FailedPreconditionError(
                        absl::StrCat("ListOffsets partition ", partition.partition_index,
                                     ": error ", partition.error_code));
                }
                if (partition.partition_index >= 0
                    && static_cast<size_t>(partition.partition_index) < offsets.size()) {
                    offsets[static_cast<size_t>(partition.partition_index)] = partition.offset;
                }
            }
        }
        client->close();
    }
    co_return offsets;
}

}  // namespace ringlog::tools::bench
