// `ringlog produce`: one record per line of stdin, in RecordBatch v2 (CRC-32C) batches sent
// with Produce to each partition's leader. A record's partition is --partition, or Kafka's
// default partitioner's choice: murmur2 of the key (bench/partitioner.h), and for null keys
// one partition at a time, moving on after each batch (the sticky partitioner, KIP-480).
// Silent on success; the first error stops it (exit 1), so exit 0 means every record was
// acknowledged (with --acks 0: sent, and the broker had read it before answering a Metadata).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <random>
#include <string>

#include <absl/strings/str_cat.h>

#include "net/kafka/generated/api_keys.h"
#include "net/kafka/generated/metadata.h"
#include "net/kafka/generated/produce.h"
#include "net/kafka/record_batch_builder.h"
#include "tools/ringlog/bench/partitioner.h"
#include "tools/ringlog/client/cluster_client.h"
#include "tools/ringlog/commands.h"

namespace ringlog::tools {

namespace {

using client::ClusterClient;
using client::Flags;
using client::TopicInfo;

constexpr const char* usage =
    "usage: ringlog produce --bootstrap HOST:PORT --topic T [flags] < lines\n"
    "  --partition P           every record to partition P (default: Kafka's partitioner:\n"
    "                          murmur2 of the key; null keys sticky, one batch at a time)\n"
    "  --key-separator S       a line is KEY S VALUE; a line without S has a null key\n"
    "  --acks 0|1|all          (all)\n";

constexpr client::FlagSpec flag_specs[] = {{"--bootstrap"},     {"--topic"}, {"--partition"},
                                           {"--key-separator"}, {"--acks"},  {"--help", false},
                                           {"-h", false}};

// A batch closes at this many records or value bytes; everything pending is sent once the
// lines read add up to pending_bytes_max.
constexpr size_t batch_records_max = 10'000;
constexpr size_t batch_bytes_max = 512 * 1024;
constexpr size_t pending_bytes_max = 4 * 1024 * 1024;

struct ProduceOptions {
    std::string topic;
    int32_t partition = -1;  // -1: the partitioner picks
    std::optional<std::string> key_separator;
    int16_t acks = -1;
};

absl::StatusOr<ProduceOptions> parse_options(const Flags& flags) {
    ProduceOptions options;
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
    options.key_separator = flags.value("--key-separator");
    if (options.key_separator.has_value() && options.key_separator->empty()) {
        return absl::InvalidArgumentError("--key-separator must not be empty");
    }
    const std::string acks = flags.value("--acks").value_or("all");
    if (acks == "all" || acks == "-1") {
        options.acks = -1;
    } else if (acks == "1") {
        options.acks = 1;
    } else if (acks == "0") {
        options.acks = 0;
    } else {
        return absl::InvalidArgumentError(
            absl::StrCat("bad value for --acks: '", acks, "' (0, 1 or all)"));
    }
    return options;
}

// What has been read and not yet sent: each partition's batches, the last one still open.
struct PendingBatch {
    net::kafka::BatchSpec spec;
    size_t bytes = 0;  // keys and values
};

struct Pending {
    std::map<int32_t, std::vector<PendingBatch>> batches;
    size_t bytes = 0;
    size_t records = 0;
};

// Sends every pending batch, one Produce per leader, and checks each partition's answer.
io::Task<absl::Status> send_pending(ClusterClient& cluster, const TopicInfo& topic,
                                    const ProduceOptions& options, Pending& pending) {
    std::map<int32_t, std::vector<int32_t>> by_leader;
    for (const auto& [partition, batches] : pending.batches) {
        by_leader[topic.partitions[static_cast<size_t>(partition)].leader].push_back(partition);
    }
    for (const auto& [leader, partitions] : by_leader) {
        RL_CO_ASSIGN_OR_RETURN(client::KafkaClient * connection, co_await cluster.node(leader));
        // A partition's batches go in one Records field, back to back, as Kafka allows.
        std::vector<std::vector<std::byte>> encoded;
        encoded.reserve(partitions.size());
        net::kafka::ProduceRequest request;
        request.acks = options.acks;
        request.timeout_ms = static_cast<int32_t>(client::request_timeout.count());
        auto& topic_data = request.topic_data.emplace_back();
        topic_data.name = topic.name;
        size_t records = 0;
        for (const int32_t partition : partitions) {
            std::vector<std::byte>& bytes = encoded.emplace_back();
            for (const PendingBatch& batch : pending.batches[partition]) {
                const std::vector<std::byte> one = net::kafka::build_record_batch(batch.spec);
                bytes.insert(bytes.end(), one.begin(), one.end());
                records += batch.spec.records.size();
            }
            auto& data = topic_data.partition_data.emplace_back();
            data.index = partition;
            data.records = net::kafka::Records(net::kafka::ByteView(bytes));
        }
        const int16_t version = cluster.versions().produce;
        if (options.acks == 0) {
            const client::Deadline deadline(client::request_timeout, "Produce");
            RL_CO_RETURN_IF_ERROR(co_await connection->send(request, version));
            continue;
        }
        net::kafka::ProduceResponse response;
        RL_CO_RETURN_IF_ERROR(
            co_await cluster.call(*connection, request, version, response, "Produce"));
        size_t answered = 0;
        for (const auto& topic_response : response.responses) {
            for (const auto& partition : topic_response.partition_responses) {
                ++answered;
                if (partition.error_code != 0) {
                    co_return client::kafka_error(
                        partition.error_code,
                        absl::StrCat("produce to ", topic.name, "/", partition.index),
                        partition.error_message);
                }
            }
        }
        if (answered != partitions.size()) {
            co_return absl::FailedPreconditionError(
                absl::StrCat("Produce: ", answered, " partitions answered of ", partitions.size(),
                             " (", records, " records)"));
        }
    }
    pending.batches.clear();
    pending.bytes = 0;
    pending.records = 0;
    co_return absl::OkStatus();
}

// With acks=0 nothing answers the Produce requests; a broker answers a connection's requests
// in order, so once a Metadata on each leader's connection is answered, they have been read.
io::Task<absl::Status> confirm_unacknowledged(ClusterClient& cluster, const TopicInfo& topic) {
    std::vector<int32_t> leaders;
    for (const auto& partition : topic.partitions) {
        if (std::find(leaders.begin(), leaders.end(), partition.leader) == leaders.end()) {
            leaders.push_back(partition.leader);
        }
    }
    for (const int32_t leader : leaders) {
        RL_CO_ASSIGN_OR_RETURN(client::KafkaClient * connection, co_await cluster.node(leader));
        net::kafka::MetadataRequest request;
        request.topics.emplace();
        net::kafka::MetadataResponse response;
        RL_CO_RETURN_IF_ERROR(co_await cluster.call(*connection, request,
                                                    cluster.versions().metadata, response,
                                                    "Metadata after acks=0 Produce"));
    }
    co_return absl::OkStatus();
}

io::Task<absl::Status> produce_lines(ClusterClient& cluster, const ProduceOptions& options) {
    RL_CO_RETURN_IF_ERROR(ClusterClient::require(cluster.versions().produce, "Produce v3+"));
    RL_CO_ASSIGN_OR_RETURN(TopicInfo topic, co_await cluster.topic(options.topic));
    const auto partition_count = static_cast<int32_t>(topic.partitions.size());
    if (options.partition >= partition_count) {
        co_return absl::InvalidArgumentError(absl::StrCat(
            "topic ", topic.name, " has ", partition_count, " partitions, no ", options.partition));
    }
    std::random_device seed;
    int32_t sticky = static_cast<int32_t>(seed() % static_cast<uint32_t>(partition_count));
    Pending pending;
    std::string line;
    while (std::getline(std::cin, line)) {
        net::kafka::RecordSpec record;
        record.timestamp = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
        const size_t at = options.key_separator.has_value() ? line.find(*options.key_separator)
                                                            : std::string::npos;
        if (at != std::string::npos) {
            record.key = line.substr(0, at);
            record.value = line.substr(at + options.key_separator->size());
        } else {
            record.value = line;
        }
        int32_t partition = options.partition;
        if (partition < 0) {
            partition = record.key.has_value()
                            ? bench::partition_for_key(*record.key, partition_count)
                            : sticky;
        }
        std::vector<PendingBatch>& batches = pending.batches[partition];
        if (batches.empty() || batches.back().spec.records.size() >= batch_records_max
            || batches.back().bytes >= batch_bytes_max) {
            if (!batches.empty() && options.partition < 0 && !record.key.has_value()) {
                // The sticky batch is full: the next null-keyed records go elsewhere.
                sticky = (sticky + 1) % partition_count;
                partition = sticky;
            }
        }
        std::vector<PendingBatch>& open = pending.batches[partition];
        if (open.empty() || open.back().spec.records.size() >= batch_records_max
            || open.back().bytes >= batch_bytes_max) {
            open.emplace_back();
        }
        const size_t bytes = line.size() + 16;  // and a record's few bytes of overhead
        open.back().spec.records.push_back(std::move(record));
        open.back().bytes += bytes;
        pending.bytes += bytes;
        ++pending.records;
        if (pending.bytes >= pending_bytes_max) {
            RL_CO_RETURN_IF_ERROR(co_await send_pending(cluster, topic, options, pending));
            sticky = (sticky + 1) % partition_count;
        }
    }
    if (pending.records > 0) {
        RL_CO_RETURN_IF_ERROR(co_await send_pending(cluster, topic, options, pending));
    }
    if (options.acks == 0) {
        RL_CO_RETURN_IF_ERROR(co_await confirm_unacknowledged(cluster, topic));
    }
    co_return absl::OkStatus();
}

io::Task<absl::Status> run_produce(io::Reactor& reactor, const Flags& flags) {
    std::ios::sync_with_stdio(false);  // before stdin is read: lines come through std::cin
    RL_CO_ASSIGN_OR_RETURN(client::Endpoint bootstrap, flags.bootstrap());
    RL_CO_ASSIGN_OR_RETURN(ProduceOptions options, parse_options(flags));
    RL_CO_ASSIGN_OR_RETURN(std::unique_ptr<ClusterClient> cluster,
                           co_await ClusterClient::connect(reactor, bootstrap));
    const absl::Status status = co_await produce_lines(*cluster, options);
    cluster->close();
    co_return status;
}

}  // namespace

int produce_command(std::span<const std::string_view> args) {
    return client::run_client_command("produce", args, flag_specs, usage, run_produce);
}

}  // namespace ringlog::tools
