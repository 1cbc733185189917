// `ringlog groups`: consumer groups over the Kafka protocol. `list` asks every broker
// (ListGroups: each coordinator knows only its own groups, and with --advertise-shards every
// shard is a broker); `describe G` prints the group's state and members (DescribeGroups, from
// its coordinator) and, per partition it committed, the committed offset, the partition's end
// (ListOffsets) and the lag between them.
#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <string>

#include <absl/strings/str_cat.h>

#include "io/base/absl_compat.h"
#include "net/kafka/generated/describe_groups.h"
#include "net/kafka/generated/list_groups.h"
#include "net/kafka/generated/offset_fetch.h"
#include "tools/ringlog/client/cluster_client.h"
#include "tools/ringlog/commands.h"

namespace ringlog::tools {

namespace {

using client::ClusterClient;
using client::Flags;
using client::TopicInfo;

constexpr const char* usage =
    "usage: ringlog groups --bootstrap HOST:PORT COMMAND\n"
    "  list                    every group and its state, tab-separated, one per line\n"
    "  describe GROUP          state, members, and per partition committed offset, end, lag\n";

constexpr client::FlagSpec flag_specs[] = {{"--bootstrap"}, {"--help", false}, {"-h", false}};

io::Task<absl::Status> list_groups(ClusterClient& cluster) {
    RL_CO_RETURN_IF_ERROR(ClusterClient::require(cluster.versions().list_groups, "ListGroups"));
    RL_CO_ASSIGN_OR_RETURN(std::vector<TopicInfo> none,
                           co_await cluster.metadata(std::vector<std::string>{}));
    (void)none;
    std::map<std::string, std::string> groups;  // id -> state
    const std::vector<client::BrokerInfo> brokers = cluster.brokers();
    for (const client::BrokerInfo& broker : brokers) {
        RL_CO_ASSIGN_OR_RETURN(client::KafkaClient * connection,
                               co_await cluster.node(broker.node_id));
        net::kafka::ListGroupsRequest request;
        net::kafka::ListGroupsResponse response;
        RL_CO_RETURN_IF_ERROR(co_await cluster.call(
            *connection, request, cluster.versions().list_groups, response, "ListGroups"));
        if (response.error_code != 0) {
            co_return client::kafka_error(response.error_code,
                                          absl::StrCat("ListGroups on broker ", broker.node_id));
        }
        for (const auto& group : response.groups) {
            groups[std::string(group.group_id)] = std::string(group.group_state);
        }
    }
    for (const auto& [id, state] : groups) {
        std::printf("%s\t%s\n", id.c_str(), state.empty() ? "-" : state.c_str());
    }
    co_return absl::OkStatus();
}

// Every (topic, partition) -> committed offset the group holds.
io::Task<absl::StatusOr<std::map<std::string, std::map<int32_t, int64_t>>>> committed_offsets(
    ClusterClient& cluster, client::KafkaClient& coordinator, std::string group) {
    const int16_t version = cluster.versions().offset_fetch;
    RL_CO_RETURN_IF_ERROR(ClusterClient::require(version, "OffsetFetch"));
    net::kafka::OffsetFetchRequest request;
    request.group_id = group;                        // v2-7; null topics: every committed partition
    request.groups.emplace_back().group_id = group;  // v8+
    net::kafka::OffsetFetchResponse response;
    RL_CO_RETURN_IF_ERROR(
        co_await cluster.call(coordinator, request, version, response, "OffsetFetch"));
    std::map<std::string, std::map<int32_t, int64_t>> out;
    const std::string what = absl::StrCat("offsets of group ", group);
    auto take = [&](int16_t error_code, const auto& topics) -> absl::Status {
        if (error_code != 0) {
            return client::kafka_error(error_code, what);
        }
        for (const auto& topic : topics) {
            for (const auto& partition : topic.partitions) {
                if (partition.error_code != 0) {
                    return client::kafka_error(partition.error_code, what);
                }
                if (partition.committed_offset >= 0) {
                    out[std::string(topic.name)][partition.partition_index] =
                        partition.committed_offset;
                }
            }
        }
        return absl::OkStatus();
    };
    if (version >= 8) {
        for (const auto& one : response.groups) {
            RL_CO_RETURN_IF_ERROR(take(one.error_code, one.topics));
        }
    } else {
        RL_CO_RETURN_IF_ERROR(take(response.error_code, response.topics));
    }
    co_return out;
}

io::Task<absl::Status> describe_group(ClusterClient& cluster, std::string group) {
    const int16_t version = cluster.versions().describe_groups;
    RL_CO_RETURN_IF_ERROR(ClusterClient::require(version, "DescribeGroups"));
    RL_CO_ASSIGN_OR_RETURN(client::KafkaClient * coordinator, co_await cluster.coordinator(group));
    net::kafka::DescribeGroupsRequest request;
    request.groups.push_back(group);
    net::kafka::DescribeGroupsResponse response;
    RL_CO_RETURN_IF_ERROR(
        co_await cluster.call(*coordinator, request, version, response, "DescribeGroups"));
    if (response.groups.size() != 1) {
        co_return absl::FailedPreconditionError("DescribeGroups: not one group in the answer");
    }
    const auto& described = response.groups[0];
    if (described.error_code != 0) {
        co_return client::kafka_error(described.error_code, absl::StrCat("group ", group));
    }
    // The answer points into the connection's buffer: keep what is printed after more calls.
    const std::string state(described.group_state);
    std::vector<std::string> members;
    for (const auto& member : described.members) {
        members.push_back(absl::StrCat("member ", base::to_absl(member.member_id), " client ",
                                       base::to_absl(member.client_id), " host ",
                                       base::to_absl(member.client_host)));
    }
    const std::string header = absl::StrCat(
        "group ", group, " state ", state, " protocol-type ",
        described.protocol_type.empty() ? "-" : std::string(described.protocol_type), " protocol ",
        described.protocol_data.empty() ? "-" : std::string(described.protocol_data), " members ",
        described.members.size());
    RL_CO_ASSIGN_OR_RETURN(auto committed,
                           co_await committed_offsets(cluster, *coordinator, group));
    if (state == "Dead" && committed.empty()) {
        co_return absl::NotFoundError(absl::StrCat("group ", group, ": GROUP_ID_NOT_FOUND"));
    }
    std::printf("%s\n", header.c_str());
    for (const std::string& member : members) {
        std::printf("%s\n", member.c_str());
    }
    std::printf("TOPIC\tPARTITION\tCOMMITTED\tEND\tLAG\n");
    for (const auto& [topic_name, partitions] : committed) {
        RL_CO_ASSIGN_OR_RETURN(TopicInfo topic, co_await cluster.topic(topic_name));
        std::vector<int32_t> known;
        for (const auto& [partition, offset] : partitions) {
            if (partition >= 0 && static_cast<size_t>(partition) < topic.partitions.size()) {
                known.push_back(partition);
            }
        }
        RL_CO_ASSIGN_OR_RETURN(auto ends, co_await cluster.list_offsets(topic, known, -1));
        for (const auto& [partition, offset] : partitions) {
            const auto end = ends.find(partition);
            if (end == ends.end()) {
                std::printf("%s\t%d\t%ld\t-\t-\n", topic_name.c_str(), partition,
                            static_cast<long>(offset));
                continue;
            }
            std::printf("%s\t%d\t%ld\t%ld\t%ld\n", topic_name.c_str(), partition,
                        static_cast<long>(offset), static_cast<long>(end->second),
                        static_cast<long>(std::max<int64_t>(0, end->second - offset)));
        }
    }
    co_return absl::OkStatus();
}

io::Task<absl::Status> run_groups(io::Reactor& reactor, const Flags& flags) {
    RL_CO_ASSIGN_OR_RETURN(client::Endpoint bootstrap, flags.bootstrap());
    const std::vector<std::string>& words = flags.positional();
    if (words.empty()) {
        co_return absl::InvalidArgumentError("which command: list or describe?");
    }
    if (words[0] == "list" && words.size() != 1) {
        co_return absl::InvalidArgumentError("list takes no arguments");
    }
    if (words[0] == "describe" && words.size() != 2) {
        co_return absl::InvalidArgumentError("describe takes one group name");
    }
    if (words[0] != "list" && words[0] != "describe") {
        co_return absl::InvalidArgumentError(absl::StrCat("unknown command '", words[0], "'"));
    }
    RL_CO_ASSIGN_OR_RETURN(std::unique_ptr<ClusterClient> cluster,
                           co_await ClusterClient::connect(reactor, bootstrap));
    // Not a conditional expression of two co_awaits: g++ 12 destroys one result too early.
    absl::Status status;
    if (words[0] == "list") {
        status = co_await list_groups(*cluster);
    } else {
        status = co_await describe_group(*cluster, words[1]);
    }
    cluster->close();
    co_return status;
}

}  // namespace

int groups_command(std::span<const std::string_view> args) {
    return client::run_client_command("groups", args, flag_specs, usage, run_groups);
}

}  // namespace ringlog::tools
