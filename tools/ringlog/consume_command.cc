// `ringlog consume`: Fetch from each partition's leader and print each record's value, one per
// line (after "partition:offset" and the key, tab-separated, when asked). It stops after
// --count records, or once --timeout-ms passes with nothing new, or by default once every
// partition reached the high watermark it had at the start (as `kcat -e` does). With --group
// it starts from the group's committed offsets and commits where it stopped, as a consumer
// outside group membership does (generation -1, no member id; Kafka accepts it for a group
// with no active members). No rebalancing, no subscription: partitions are assigned here.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>

#include <absl/strings/numbers.h>
#include <absl/strings/str_cat.h>

#include "net/kafka/generated/fetch.h"
#include "net/kafka/generated/offset_commit.h"
#include "net/kafka/generated/offset_fetch.h"
#include "tools/ringlog/client/cluster_client.h"
#include "tools/ringlog/client/fetched_records.h"
#include "tools/ringlog/commands.h"

namespace ringlog::tools {

namespace {

using client::ClusterClient;
using client::Flags;
using client::TopicInfo;

constexpr const char* usage =
    "usage: ringlog consume --bootstrap HOST:PORT --topic T [flags]\n"
    "  --partition P           only partition P (default: every partition)\n"
    "  --from earliest|latest|OFFSET  where to start (earliest); with --group, where\n"
    "                          partitions without a committed offset start\n"
    "  --count N               stop after N records\n"
    "  --timeout-ms MS         stop once MS pass with nothing new\n"
    "                          (neither: stop at the high watermarks seen at the start)\n"
    "  --group G               start from G's committed offsets; commit at the end\n"
    "  --print-key             print the key (empty when null) and a tab before the value\n"
    "  --print-offset          print partition:offset and a tab first\n";

constexpr client::FlagSpec flag_specs[] = {{"--bootstrap"},
                                           {"--topic"},
                                           {"--partition"},
                                           {"--from"},
                                           {"--count"},
                                           {"--timeout-ms"},
                                           {"--group"},
                                           {"--print-key", false},
                                           {"--print-offset", false},
                                           {"--help", false},
                                           {"-h", false}};

constexpr int32_t partition_fetch_bytes = 1024 * 1024;
constexpr int32_t fetch_wait_ms_max = 500;

struct ConsumeOptions {
    std::string topic;
    int32_t partition = -1;
    int64_t from = -2;  // -2 earliest, -1 latest, else an offset
    int64_t count = -1;
    int64_t timeout_ms = -1;
    std::optional<std::string> group;
    bool print_key = false;
    bool print_offset = false;
};

absl::StatusOr<ConsumeOptions> parse_options(const Flags& flags) {
    ConsumeOptions options;
    if (!flags.positional().empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("unexpected argument '", flags.positional()[0], "'"));
    }
    const std::optional<std::string> topic = flags.value("--topic");
    if (!topic.has_value() || topic->empty()) {
        return absl::InvalidArgumentError("--topic T is required");
    }
    options.topic = *topic;
    RL_ASSIGN_OR_RETURN(const int64_t partition, flags.integer("--partition", -1, 0, INT32_MAX));
    options.partition = static_cast<int32_t>(partition);
    const std::string from = flags.value("--from").value_or("earliest");
    if (from == "earliest") {
        options.from = -2;
    } else if (from == "latest") {
        options.from = -1;
    } else if (!absl::SimpleAtoi(from, &options.from) || options.from < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("bad value for --from: '", from, "' (earliest, latest or an offset)"));
    }
    RL_ASSIGN_OR_RETURN(options.count, flags.integer("--count", -1, 1, INT64_MAX));
    RL_ASSIGN_OR_RETURN(options.timeout_ms, flags.integer("--timeout-ms", -1, 0, INT32_MAX));
    options.group = flags.value("--group");
    if (options.group.has_value() && options.group->empty()) {
        return absl::InvalidArgumentError("--group must not be empty");
    }
    options.print_key = flags.has("--print-key");
    options.print_offset = flags.has("--print-offset");
    return options;
}

// The group's committed offset of each of `partitions` (-1 where there is none).
io::Task<absl::StatusOr<std::map<int32_t, int64_t>>> fetch_committed(
    ClusterClient& cluster, client::KafkaClient& coordinator, std::string group,
    const TopicInfo& topic, std::vector<int32_t> partitions) {
    const int16_t version = cluster.versions().offset_fetch;
    RL_CO_RETURN_IF_ERROR(ClusterClient::require(version, "OffsetFetch"));
    net::kafka::OffsetFetchRequest request;
    request.group_id = group;  // v0-7
    request.topics.emplace();
    request.topics->emplace_back();
    request.topics->back().name = topic.name;
    request.topics->back().partition_indexes = partitions;
    auto& one = request.groups.emplace_back();  // v8+
    one.group_id = group;
    one.topics.emplace();
    one.topics->emplace_back();
    one.topics->back().name = topic.name;
    one.topics->back().partition_indexes = partitions;
    net::kafka::OffsetFetchResponse response;
    RL_CO_RETURN_IF_ERROR(
        co_await cluster.call(coordinator, request, version, response, "OffsetFetch"));
    std::map<int32_t, int64_t> committed;
    const std::string what = absl::StrCat("offsets of group ", group);
    auto take = [&](int16_t error_code, const auto& topics) -> absl::Status {
        if (error_code != 0) {
            return client::kafka_error(error_code, what);
        }
        for (const auto& topic_response : topics) {
            for (const auto& partition : topic_response.partitions) {
                if (partition.error_code != 0) {
                    return client::kafka_error(partition.error_code, what);
                }
                committed[partition.partition_index] = partition.committed_offset;
            }
        }
        return absl::OkStatus();
    };
    if (version >= 8) {
        for (const auto& group_response : response.groups) {
            RL_CO_RETURN_IF_ERROR(take(group_response.error_code, group_response.topics));
        }
    } else {
        RL_CO_RETURN_IF_ERROR(take(response.error_code, response.topics));
    }
    co_return committed;
}

io::Task<absl::Status> commit(ClusterClient& cluster, client::KafkaClient& coordinator,
                              std::string group, const TopicInfo& topic,
                              const std::map<int32_t, int64_t>& positions) {
    const int16_t version = cluster.versions().offset_commit;
    RL_CO_RETURN_IF_ERROR(ClusterClient::require(version, "OffsetCommit"));
    net::kafka::OffsetCommitRequest request;
    request.group_id = group;
    request.generation_id_or_member_epoch = -1;
    request.member_id = "";
    auto& topic_request = request.topics.emplace_back();
    topic_request.name = topic.name;
    for (const auto& [partition, offset] : positions) {
        auto& one = topic_request.partitions.emplace_back();
        one.partition_index = partition;
        one.committed_offset = offset;
        one.committed_metadata = "";
    }
    net::kafka::OffsetCommitResponse response;
    RL_CO_RETURN_IF_ERROR(
        co_await cluster.call(coordinator, request, version, response, "OffsetCommit"));
    for (const auto& topic_response : response.topics) {
        for (const auto& partition : topic_response.partitions) {
            if (partition.error_code != 0) {
                co_return client::kafka_error(partition.error_code,
                                              absl::StrCat("commit ", group, " ", topic.name, "/",
                                                           partition.partition_index));
            }
        }
    }
    co_return absl::OkStatus();
}

// One consumer's state: where each partition is, where it stops by default, and the output.
struct Consumption {
    std::map<int32_t, int64_t> positions;
    std::map<int32_t, int64_t> stops;  // the high watermarks at the start
    int64_t printed = 0;
    net::kafka::CodecContext codec;
    std::vector<std::byte> inflated;
};

void print_record(const ConsumeOptions& options, int32_t partition,
                  const client::FetchedRecord& record) {
    if (options.print_offset) {
        std::printf("%d:%ld\t", partition, static_cast<long>(record.offset));
    }
    if (options.print_key) {
        if (record.key.has_value()) {
            std::fwrite(record.key->data(), 1, record.key->size(), stdout);
        }
        std::fputc('\t', stdout);
    }
    if (record.value.has_value()) {
        std::fwrite(record.value->data(), 1, record.value->size(), stdout);
    }
    std::fputc('\n', stdout);
}

bool finished(const ConsumeOptions& options, const Consumption& state) {
    if (options.count >= 0) {
        return state.printed >= options.count;
    }
    if (options.timeout_ms >= 0) {
        return false;
    }
    for (const auto& [partition, position] : state.positions) {
        if (position < state.stops.at(partition)) {
            return false;
        }
    }
    return true;
}

// One Fetch to `leader` for the partitions it leads that are still to be read; returns the
// number of records printed.
io::Task<absl::StatusOr<int64_t>> fetch_once(ClusterClient& cluster, const TopicInfo& topic,
                                             const ConsumeOptions& options, int32_t leader,
                                             std::vector<int32_t> partitions, int32_t wait_ms,
                                             Consumption& state) {
    RL_CO_ASSIGN_OR_RETURN(client::KafkaClient * connection, co_await cluster.node(leader));
    net::kafka::FetchRequest request;
    request.replica_id = -1;
    request.max_wait_ms = wait_ms;
    request.min_bytes = 1;
    request.max_bytes = 16 * partition_fetch_bytes;
    request.isolation_level = 0;
    request.session_id = 0;
    request.session_epoch = -1;
    auto& fetch_topic = request.topics.emplace_back();
    fetch_topic.topic = topic.name;
    for (const int32_t partition : partitions) {
        auto& one = fetch_topic.partitions.emplace_back();
        one.partition = partition;
        one.fetch_offset = state.positions[partition];
        one.partition_max_bytes = partition_fetch_bytes;
    }
    net::kafka::FetchResponse response;
    RL_CO_RETURN_IF_ERROR(co_await cluster.call(*connection, request, cluster.versions().fetch,
                                                response, "Fetch",
                                                std::chrono::milliseconds(wait_ms)));
    if (response.error_code != 0) {
        co_return client::kafka_error(response.error_code, "Fetch");
    }
    const int64_t printed_before = state.printed;
    for (const auto& topic_response : response.responses) {
        for (const auto& partition : topic_response.partitions) {
            const int32_t index = partition.partition_index;
            if (partition.error_code != 0) {
                co_return client::kafka_error(
                    partition.error_code,
                    absl::StrCat("fetch ", topic.name, "/", index, " at ", state.positions[index]));
            }
            if (!state.positions.contains(index) || partition.records.is_null()) {
                continue;
            }
            int64_t& position = state.positions[index];
            const int64_t stop =
                options.count < 0 && options.timeout_ms < 0 ? state.stops[index] : INT64_MAX;
            absl::StatusOr<int64_t> next = client::for_each_fetched_record(
                partition.records.bytes(), position, state.codec, state.inflated,
                [&](const client::FetchedRecord& record) {
                    if (record.offset >= stop
                        || (options.count >= 0 && state.printed >= options.count)) {
                        return false;
                    }
                    print_record(options, index, record);
                    ++state.printed;
                    return true;
                });
            if (!next.ok()) {
                co_return absl::Status(
                    next.status().code(),
                    absl::StrCat(topic.name, "/", index, ": ", next.status().message()));
            }
            position = *next;
            // Nothing more below the high watermark: the stop seen at the start cannot be
            // reached (records removed meanwhile), so this partition is caught up.
            if (position >= partition.high_watermark && state.stops[index] > position) {
                state.stops[index] = position;
            }
        }
    }
    co_return state.printed - printed_before;
}

io::Task<absl::Status> consume(io::Reactor& reactor, ClusterClient& cluster,
                               const ConsumeOptions& options) {
    RL_CO_RETURN_IF_ERROR(ClusterClient::require(cluster.versions().fetch, "Fetch"));
    RL_CO_ASSIGN_OR_RETURN(TopicInfo topic, co_await cluster.topic(options.topic));
    std::vector<int32_t> partitions;
    for (const auto& partition : topic.partitions) {
        if (options.partition < 0 || partition.partition == options.partition) {
            partitions.push_back(partition.partition);
        }
    }
    if (partitions.empty()) {
        co_return absl::InvalidArgumentError(absl::StrCat("topic ", topic.name, " has ",
                                                          topic.partitions.size(),
                                                          " partitions, no ", options.partition));
    }
    Consumption state;
    RL_CO_ASSIGN_OR_RETURN(state.stops, co_await cluster.list_offsets(topic, partitions, -1));
    if (options.from == -2) {
        RL_CO_ASSIGN_OR_RETURN(state.positions,
                               co_await cluster.list_offsets(topic, partitions, -2));
    } else if (options.from == -1) {
        state.positions = state.stops;
    } else {
        for (const int32_t partition : partitions) {
            if (options.from > state.stops[partition]) {
                co_return absl::OutOfRangeError(absl::StrCat(
                    "fetch ", topic.name, "/", partition, " at ", options.from,
                    ": OFFSET_OUT_OF_RANGE (the log ends at ", state.stops[partition], ")"));
            }
            state.positions[partition] = options.from;
        }
    }
    client::KafkaClient* coordinator = nullptr;
    if (options.group.has_value()) {
        RL_CO_ASSIGN_OR_RETURN(coordinator, co_await cluster.coordinator(*options.group));
        RL_CO_ASSIGN_OR_RETURN(
            auto committed,
            co_await fetch_committed(cluster, *coordinator, *options.group, topic, partitions));
        for (const auto& [partition, offset] : committed) {
            if (offset >= 0 && state.positions.contains(partition)) {
                state.positions[partition] = offset;
            }
        }
    }
    auto last_progress = reactor.now();
    while (!finished(options, state)) {
        std::map<int32_t, std::vector<int32_t>> by_leader;
        for (const auto& [partition, position] : state.positions) {
            if (options.count >= 0 || options.timeout_ms >= 0
                || position < state.stops[partition]) {
                by_leader[topic.partitions[static_cast<size_t>(partition)].leader].push_back(
                    partition);
            }
        }
        int32_t wait_ms = by_leader.size() > 1 ? 100 : fetch_wait_ms_max;
        if (options.timeout_ms >= 0) {
            wait_ms = static_cast<int32_t>(std::min<int64_t>(wait_ms, options.timeout_ms));
        }
        int64_t printed = 0;
        for (const auto& [leader, led] : by_leader) {
            RL_CO_ASSIGN_OR_RETURN(
                const int64_t got,
                co_await fetch_once(cluster, topic, options, leader, led, wait_ms, state));
            printed += got;
            if (finished(options, state)) {
                break;
            }
        }
        if (printed > 0) {
            last_progress = reactor.now();
        } else if (options.timeout_ms >= 0
                   && reactor.now() - last_progress
                          >= std::chrono::milliseconds(options.timeout_ms)) {
            break;
        }
    }
    std::fflush(stdout);
    if (coordinator != nullptr) {
        RL_CO_RETURN_IF_ERROR(
            co_await commit(cluster, *coordinator, *options.group, topic, state.positions));
    }
    co_return absl::OkStatus();
}

io::Task<absl::Status> run_consume(io::Reactor& reactor, const Flags& flags) {
    RL_CO_ASSIGN_OR_RETURN(client::Endpoint bootstrap, flags.bootstrap());
    RL_CO_ASSIGN_OR_RETURN(ConsumeOptions options, parse_options(flags));
    RL_CO_ASSIGN_OR_RETURN(std::unique_ptr<ClusterClient> cluster,
                           co_await ClusterClient::connect(reactor, bootstrap));
    const absl::Status status = co_await consume(reactor, *cluster, options);
    cluster->close();
    co_return status;
}

}  // namespace

int consume_command(std::span<const std::string_view> args) {
    return client::run_client_command("consume", args, flag_specs, usage, run_consume);
}

}  // namespace ringlog::tools
