// `ringlog topics`: list, create, delete and describe topics over the Kafka protocol
// (Metadata, CreateTopics, DeleteTopics, DescribeConfigs, ListOffsets), as any Kafka admin
// client would. Broker errors are printed by their Kafka names.
#include <algorithm>
#include <cstdio>
#include <string>

#include <absl/strings/str_cat.h>

#include "io/base/absl_compat.h"
#include "net/kafka/generated/create_topics.h"
#include "net/kafka/generated/delete_topics.h"
#include "net/kafka/generated/describe_configs.h"
#include "tools/ringlog/client/cluster_client.h"
#include "tools/ringlog/commands.h"

namespace ringlog::tools {

namespace {

using client::ClusterClient;
using client::Flags;
using client::TopicInfo;

constexpr const char* usage =
    "usage: ringlog topics --bootstrap HOST:PORT COMMAND\n"
    "  list                                       every topic, one per line\n"
    "  create NAME [--partitions N] [--config K=V]...\n"
    "                                             (N: the broker's default)\n"
    "  delete NAME\n"
    "  describe NAME                              partitions with leader and offsets; configs\n";

constexpr client::FlagSpec flag_specs[] = {
    {"--bootstrap"}, {"--partitions"}, {"--config"}, {"--help", false}, {"-h", false}};

// DescribeConfigs' resource type of a topic (DescribeConfigsRequest.json, ResourceType).
constexpr int8_t topic_resource = 2;

// The second positional word: the topic name.
absl::StatusOr<std::string> topic_name(const Flags& flags) {
    if (flags.positional().size() != 2) {
        return absl::InvalidArgumentError(
            absl::StrCat(flags.positional()[0], " takes one topic name"));
    }
    return flags.positional()[1];
}

io::Task<absl::Status> list_topics(ClusterClient& cluster) {
    RL_CO_ASSIGN_OR_RETURN(std::vector<TopicInfo> topics, co_await cluster.metadata(std::nullopt));
    std::vector<std::string> names;
    for (const TopicInfo& topic : topics) {
        if (topic.error_code == 0) {
            names.push_back(topic.name);
        }
    }
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
        std::printf("%s\n", name.c_str());
    }
    co_return absl::OkStatus();
}

io::Task<absl::Status> create_topic(ClusterClient& cluster, const Flags& flags, std::string name) {
    RL_CO_RETURN_IF_ERROR(ClusterClient::require(cluster.versions().create_topics, "CreateTopics"));
    RL_CO_ASSIGN_OR_RETURN(const int64_t partitions, flags.integer("--partitions", -1, 1, 1 << 20));
    const std::vector<std::string> configs = flags.values("--config");
    net::kafka::CreateTopicsRequest request;
    auto& topic = request.topics.emplace_back();
    topic.name = name;
    topic.num_partitions = static_cast<int32_t>(partitions);
    // -1 (the broker's default) needs v4+ (KIP-464); ringlog keeps one copy anyway.
    topic.replication_factor = cluster.versions().create_topics >= 4 ? -1 : 1;
    if (partitions < 0 && cluster.versions().create_topics < 4) {
        co_return absl::InvalidArgumentError("this broker needs --partitions");
    }
    for (const std::string& config : configs) {
        const size_t equals = config.find('=');
        if (equals == std::string::npos || equals == 0) {
            co_return absl::InvalidArgumentError(
                absl::StrCat("bad value for --config: '", config, "' (K=V)"));
        }
        auto& entry = topic.configs.emplace_back();
        entry.name = std::string_view(config).substr(0, equals);
        entry.value = std::string_view(config).substr(equals + 1);
    }
    request.timeout_ms = static_cast<int32_t>(client::request_timeout.count());
    net::kafka::CreateTopicsResponse response;
    RL_CO_RETURN_IF_ERROR(co_await cluster.call(
        cluster.bootstrap(), request, cluster.versions().create_topics, response, "CreateTopics"));
    for (const auto& result : response.topics) {
        if (result.error_code != 0) {
            co_return client::kafka_error(result.error_code, absl::StrCat("create ", name),
                                          result.error_message);
        }
    }
    // Done when every partition has a leader, so that the next command can use the topic.
    RL_CO_ASSIGN_OR_RETURN(TopicInfo created, co_await cluster.topic(name));
    (void)created;
    co_return absl::OkStatus();
}

io::Task<absl::Status> delete_topic(ClusterClient& cluster, std::string name) {
    const int16_t version = cluster.versions().delete_topics;
    RL_CO_RETURN_IF_ERROR(ClusterClient::require(version, "DeleteTopics"));
    net::kafka::DeleteTopicsRequest request;
    request.topics.emplace_back().name = name;  // v6+
    request.topic_names.push_back(name);        // v1-5
    request.timeout_ms = static_cast<int32_t>(client::request_timeout.count());
    net::kafka::DeleteTopicsResponse response;
    RL_CO_RETURN_IF_ERROR(
        co_await cluster.call(cluster.bootstrap(), request, version, response, "DeleteTopics"));
    if (response.responses.empty()) {
        co_return absl::FailedPreconditionError(absl::StrCat("delete ", name, ": no answer"));
    }
    for (const auto& result : response.responses) {
        if (result.error_code != 0) {
            co_return client::kafka_error(result.error_code, absl::StrCat("delete ", name),
                                          result.error_message);
        }
    }
    co_return absl::OkStatus();
}

io::Task<absl::Status> describe_topic(ClusterClient& cluster, std::string name) {
    RL_CO_RETURN_IF_ERROR(
        ClusterClient::require(cluster.versions().describe_configs, "DescribeConfigs"));
    RL_CO_ASSIGN_OR_RETURN(TopicInfo topic, co_await cluster.topic(name));
    std::vector<int32_t> partitions;
    for (const auto& partition : topic.partitions) {
        partitions.push_back(partition.partition);
    }
    RL_CO_ASSIGN_OR_RETURN(auto starts, co_await cluster.list_offsets(topic, partitions, -2));
    RL_CO_ASSIGN_OR_RETURN(auto ends, co_await cluster.list_offsets(topic, partitions, -1));
    std::printf("topic %s partitions %zu\n", topic.name.c_str(), topic.partitions.size());
    for (const auto& partition : topic.partitions) {
        std::printf("partition %d leader %d log-start %ld log-end %ld\n", partition.partition,
                    partition.leader, static_cast<long>(starts[partition.partition]),
                    static_cast<long>(ends[partition.partition]));
    }
    net::kafka::DescribeConfigsRequest request;
    auto& resource = request.resources.emplace_back();
    resource.resource_type = topic_resource;
    resource.resource_name = name;
    net::kafka::DescribeConfigsResponse response;
    RL_CO_RETURN_IF_ERROR(co_await cluster.call(cluster.bootstrap(), request,
                                                cluster.versions().describe_configs, response,
                                                "DescribeConfigs"));
    for (const auto& result : response.results) {
        if (result.error_code != 0) {
            co_return client::kafka_error(result.error_code, absl::StrCat("configs of ", name),
                                          result.error_message);
        }
        std::vector<std::string> lines;
        for (const auto& config : result.configs) {
            lines.push_back(absl::StrCat(base::to_absl(config.name), "=",
                                         base::to_absl(config.value.value_or(""))));
        }
        std::sort(lines.begin(), lines.end());
        for (const std::string& line : lines) {
            std::printf("config %s\n", line.c_str());
        }
    }
    co_return absl::OkStatus();
}

io::Task<absl::Status> run_topics(io::Reactor& reactor, const Flags& flags) {
    RL_CO_ASSIGN_OR_RETURN(client::Endpoint bootstrap, flags.bootstrap());
    if (flags.positional().empty()) {
        co_return absl::InvalidArgumentError("which command: list, create, delete or describe?");
    }
    const std::string& command = flags.positional()[0];
    if (command != "list" && command != "create" && command != "delete" && command != "describe") {
        co_return absl::InvalidArgumentError(absl::StrCat("unknown command '", command, "'"));
    }
    if (command == "list" && flags.positional().size() != 1) {
        co_return absl::InvalidArgumentError("list takes no arguments");
    }
    std::string name;
    if (command != "list") {
        RL_CO_ASSIGN_OR_RETURN(name, topic_name(flags));
    }
    RL_CO_ASSIGN_OR_RETURN(std::unique_ptr<ClusterClient> cluster,
                           co_await ClusterClient::connect(reactor, bootstrap));
    absl::Status status;
    if (command == "list") {
        status = co_await list_topics(*cluster);
    } else if (command == "create") {
        status = co_await create_topic(*cluster, flags, name);
    } else if (command == "delete") {
        status = co_await delete_topic(*cluster, name);
    } else {
        status = co_await describe_topic(*cluster, name);
    }
    cluster->close();
    co_return status;
}

}  // namespace

int topics_command(std::span<const std::string_view> args) {
    return client::run_client_command("topics", args, flag_specs, usage, run_topics);
}

}  // namespace ringlog::tools
