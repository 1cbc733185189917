// ClusterClient: see cluster_client.h.
#include "tools/ringlog/client/cluster_client.h"

#include <algorithm>
#include <cstdio>

#include <absl/strings/str_cat.h>

#include "io/base/absl_compat.h"
#include "net/kafka/generated/api_keys.h"
#include "net/kafka/generated/api_versions.h"
#include "net/kafka/generated/create_topics.h"
#include "net/kafka/generated/delete_topics.h"
#include "net/kafka/generated/describe_configs.h"
#include "net/kafka/generated/describe_groups.h"
#include "net/kafka/generated/fetch.h"
#include "net/kafka/generated/find_coordinator.h"
#include "net/kafka/generated/list_groups.h"
#include "net/kafka/generated/list_offsets.h"
#include "net/kafka/generated/metadata.h"
#include "net/kafka/generated/offset_commit.h"
#include "net/kafka/generated/offset_fetch.h"
#include "net/kafka/generated/produce.h"

namespace ringlog::tools::client {

namespace {

using net::kafka::ErrorCode;

ApiVersionsChosen choose_versions(const net::kafka::ApiVersionsResponse& response) {
    using bench::common_version;
    namespace kafka = net::kafka;
    ApiVersionsChosen chosen;
    chosen.metadata = common_version<kafka::MetadataRequest>(response);
    chosen.produce = common_version<kafka::ProduceRequest>(response);
    chosen.fetch = common_version<kafka::FetchRequest>(response);
    chosen.list_offsets = common_version<kafka::ListOffsetsRequest>(response);
    chosen.create_topics = common_version<kafka::CreateTopicsRequest>(response);
    chosen.delete_topics = common_version<kafka::DeleteTopicsRequest>(response);
    chosen.describe_configs = common_version<kafka::DescribeConfigsRequest>(response);
    chosen.find_coordinator = common_version<kafka::FindCoordinatorRequest>(response);
    chosen.offset_fetch = common_version<kafka::OffsetFetchRequest>(response);
    chosen.offset_commit = common_version<kafka::OffsetCommitRequest>(response);
    chosen.list_groups = common_version<kafka::ListGroupsRequest>(response);
    chosen.describe_groups = common_version<kafka::DescribeGroupsRequest>(response);
    // Produce v3+ carries the magic v2 batches the producer builds; Metadata v1+ has a null
    // topic list for "every topic"; OffsetFetch v2+ likewise for "every committed partition".
    if (chosen.produce >= 0 && chosen.produce < 3) {
        chosen.produce = -1;
    }
    if (chosen.metadata >= 0 && chosen.metadata < 1) {
        chosen.metadata = -1;
    }
    if (chosen.offset_fetch >= 0 && chosen.offset_fetch < 2) {
        chosen.offset_fetch = -1;
    }
    return chosen;
}

}  // namespace

absl::Status kafka_error(int16_t error_code, std::string_view what,
                         std::optional<std::string_view> message) {
    const std::string name(net::kafka::error_code_name(static_cast<ErrorCode>(error_code)));
    std::string text = absl::StrCat(base::to_absl(what), ": ", name);
    if (message.has_value() && !message->empty()) {
        absl::StrAppend(&text, " (", base::to_absl(*message), ")");
    }
    if (error_code == static_cast<int16_t>(ErrorCode::unknown_topic_or_partition)) {
        return absl::NotFoundError(text);
    }
    return absl::FailedPreconditionError(text);
}

absl::Status ClusterClient::require(int16_t version, std::string_view api) {
    if (version < 0) {
        return absl::FailedPreconditionError(absl::StrCat(
            "the broker does not support a ", base::to_absl(api), " version this client speaks"));
    }
    return absl::OkStatus();
}

io::Task<absl::StatusOr<std::unique_ptr<ClusterClient>>> ClusterClient::connect(
    io::Reactor& reactor, Endpoint bootstrap) {
    const std::string where = absl::StrCat(bootstrap.host, ":", bootstrap.port);
    absl::StatusOr<std::unique_ptr<KafkaClient>> connection;
    {
        const Deadline deadline(connect_timeout, absl::StrCat("connect to ", where));
        connection = co_await KafkaClient::connect(reactor, bootstrap.host, bootstrap.port);
    }
    if (!connection.ok()) {
        co_return connection.status();
    }
    std::unique_ptr<ClusterClient> client(new ClusterClient(reactor, *std::move(connection)));
    net::kafka::ApiVersionsRequest request;
    request.client_software_name = "ringlog";
    request.client_software_version = "1";
    net::kafka::ApiVersionsResponse response;
    RL_CO_RETURN_IF_ERROR(co_await client->call(*client->bootstrap_, request, 3, response,
                                                absl::StrCat("ApiVersions from ", where)));
    if (response.error_code != 0) {
        co_return kafka_error(response.error_code, absl::StrCat("ApiVersions from ", where));
    }
    client->versions_ = choose_versions(response);
    RL_CO_RETURN_IF_ERROR(require(client->versions_.metadata, "Metadata"));
    co_return client;
}

io::Task<absl::StatusOr<std::vector<TopicInfo>>> ClusterClient::metadata(
    std::optional<std::vector<std::string>> topics) {
    net::kafka::MetadataRequest request;
    if (topics.has_value()) {
        request.topics.emplace();
        for (const std::string& name : *topics) {
            request.topics->emplace_back();
            request.topics->back().name = name;
        }
    }
    request.allow_auto_topic_creation = false;
    net::kafka::MetadataResponse response;
    RL_CO_RETURN_IF_ERROR(
        co_await call(*bootstrap_, request, versions_.metadata, response, "Metadata"));
    brokers_.clear();
    for (const auto& broker : response.brokers) {
        brokers_.push_back(BrokerInfo{.node_id = broker.node_id,
                                      .host = std::string(broker.host),
                                      .port = static_cast<uint16_t>(broker.port)});
    }
    std::vector<TopicInfo> out;
    for (const auto& topic : response.topics) {
        TopicInfo info;
        info.name = std::string(topic.name.value_or(""));
        info.error_code = topic.error_code;
        for (const auto& partition : topic.partitions) {
            info.partitions.push_back(PartitionInfo{.partition = partition.partition_index,
                                                    .leader = partition.leader_id,
                                                    .error_code = partition.error_code});
        }
        std::sort(info.partitions.begin(), info.partitions.end(),
                  [](const PartitionInfo& a, const PartitionInfo& b) {
                      return a.partition < b.partition;
                  });
        out.push_back(std::move(info));
    }
    co_return out;
}

io::Task<absl::StatusOr<TopicInfo>> ClusterClient::topic(std::string name) {
    const auto deadline = reactor_.now() + std::chrono::seconds(10);
    std::vector<std::string> names;
    names.push_back(name);
    for (;;) {
        RL_CO_ASSIGN_OR_RETURN(std::vector<TopicInfo> topics, co_await metadata(names));
        const auto found = std::find_if(topics.begin(), topics.end(),
                                        [&](const TopicInfo& t) { return t.name == name; });
        if (found == topics.end()) {
            co_return kafka_error(static_cast<int16_t>(ErrorCode::unknown_topic_or_partition),
                                  absl::StrCat("topic ", name));
        }
        if (found->error_code != 0) {
            co_return kafka_error(found->error_code, absl::StrCat("topic ", name));
        }
        bool led = !found->partitions.empty();
        for (size_t i = 0; i < found->partitions.size(); ++i) {
            const PartitionInfo& partition = found->partitions[i];
            const bool known = std::any_of(
                brokers_.begin(), brokers_.end(),
                [&](const BrokerInfo& broker) { return broker.node_id == partition.leader; });
            led = led && known && partition.error_code == 0
                  && partition.partition == static_cast<int32_t>(i);
        }
        if (led) {
            co_return std::move(*found);
        }
        if (reactor_.now() > deadline) {
            co_return absl::UnavailableError(
                absl::StrCat("topic ", name, ": partitions without a leader after 10 s"));
        }
        co_await reactor_.sleep_for(std::chrono::milliseconds(50));
    }
}

io::Task<absl::StatusOr<KafkaClient*>> ClusterClient::connect_to(std::string host, uint16_t port) {
    const std::pair<std::string, uint16_t> key(host, port);
    const auto found = connections_.find(key);
    if (found != connections_.end()) {
        co_return found->second.get();
    }
    absl::StatusOr<std::unique_ptr<KafkaClient>> connection;
    {
        const std::string what = absl::StrCat("connect to ", host, ":", port);
        const Deadline deadline(connect_timeout, what);
        connection = co_await KafkaClient::connect(reactor_, host, port);
    }
    if (!connection.ok()) {
        co_return connection.status();
    }
    KafkaClient* client = connection->get();
    connections_.emplace(key, *std::move(connection));
    co_return client;
}

io::Task<absl::StatusOr<KafkaClient*>> ClusterClient::node(int32_t node_id) {
    for (const BrokerInfo& broker : brokers_) {
        if (broker.node_id == node_id) {
            co_return co_await connect_to(broker.host, broker.port);
        }
    }
    co_return absl::UnavailableError(absl::StrCat("broker ", node_id, " is not in the metadata"));
}

io::Task<absl::StatusOr<KafkaClient*>> ClusterClient::coordinator(std::string group) {
    RL_CO_RETURN_IF_ERROR(require(versions_.find_coordinator, "FindCoordinator"));
    net::kafka::FindCoordinatorRequest request;
    request.key = group;
    request.key_type = 0;  // a group
    request.coordinator_keys.push_back(group);
    net::kafka::FindCoordinatorResponse response;
    RL_CO_RETURN_IF_ERROR(co_await call(*bootstrap_, request, versions_.find_coordinator, response,
                                        "FindCoordinator"));
    int16_t error_code = response.error_code;
    std::string host(response.host);
    int32_t port = response.port;
    if (versions_.find_coordinator >= 4) {
        if (response.coordinators.empty()) {
            co_return absl::FailedPreconditionError("FindCoordinator: an empty answer");
        }
        error_code = response.coordinators[0].error_code;
        host = std::string(response.coordinators[0].host);
        port = response.coordinators[0].port;
    }
    if (error_code != 0) {
        co_return kafka_error(error_code, absl::StrCat("coordinator of group ", group));
    }
    co_return co_await connect_to(host, static_cast<uint16_t>(port));
}

io::Task<absl::StatusOr<std::map<int32_t, int64_t>>> ClusterClient::list_offsets(
    const TopicInfo& topic, std::vector<int32_t> partitions, int64_t timestamp) {
    RL_CO_RETURN_IF_ERROR(require(versions_.list_offsets, "ListOffsets"));
    std::map<int32_t, std::vector<int32_t>> by_leader;
    for (const int32_t partition : partitions) {
        by_leader[topic.partitions[static_cast<size_t>(partition)].leader].push_back(partition);
    }
    std::map<int32_t, int64_t> offsets;
    for (const auto& [leader, led] : by_leader) {
        RL_CO_ASSIGN_OR_RETURN(KafkaClient * client, co_await node(leader));
        net::kafka::ListOffsetsRequest request;
        request.replica_id = -1;
        request.topics.emplace_back();
        request.topics.back().name = topic.name;
        for (const int32_t partition : led) {
            request.topics.back().partitions.emplace_back();
            request.topics.back().partitions.back().partition_index = partition;
            request.topics.back().partitions.back().timestamp = timestamp;
        }
        net::kafka::ListOffsetsResponse response;
        RL_CO_RETURN_IF_ERROR(
            co_await call(*client, request, versions_.list_offsets, response, "ListOffsets"));
        for (const auto& topic_response : response.topics) {
            for (const auto& partition : topic_response.partitions) {
                if (partition.error_code != 0) {
                    co_return kafka_error(
                        partition.error_code,
                        absl::StrCat("ListOffsets ", topic.name, "/", partition.partition_index));
                }
                offsets[partition.partition_index] = partition.offset;
            }
        }
    }
    for (const int32_t partition : partitions) {
        if (!offsets.contains(partition)) {
            co_return absl::FailedPreconditionError(
                absl::StrCat("ListOffsets ", topic.name, "/", partition, ": no answer"));
        }
    }
    co_return offsets;
}

void ClusterClient::close() {
    bootstrap_->close();
    for (auto& [address, connection] : connections_) {
        connection->close();
    }
}

int run_client_command(std::string_view command, std::span<const std::string_view> args,
                       std::span<const FlagSpec> specs, const char* usage,
                       io::Task<absl::Status> (*task)(io::Reactor&, const Flags&)) {
    absl::StatusOr<Flags> flags = Flags::parse(args, specs);
    if (flags.ok() && (flags->has("--help") || flags->has("-h"))) {
        std::fputs(usage, stdout);
        return 0;
    }
    if (!flags.ok()) {
        std::fprintf(stderr, "ringlog %.*s: %s\n%s", static_cast<int>(command.size()),
                     command.data(), std::string(flags.status().message()).c_str(), usage);
        return 2;
    }
    absl::StatusOr<std::unique_ptr<io::Reactor>> reactor = io::Reactor::create();
    if (!reactor.ok()) {
        std::fprintf(stderr, "ringlog %.*s: %s\n", static_cast<int>(command.size()), command.data(),
                     std::string(reactor.status().message()).c_str());
        return 1;
    }
    const absl::Status status = (*reactor)->block_on(task(**reactor, *flags));
    std::fflush(stdout);
    if (!status.ok()) {
        std::fprintf(stderr, "ringlog %.*s: %s\n", static_cast<int>(command.size()), command.data(),
                     std::string(status.message()).c_str());
        return 1;
    }
    return 0;
}

}  // namespace ringlog::tools::client
