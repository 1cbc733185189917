// ClusterClient: what every client subcommand of `ringlog` (topics, produce, consume, groups)
// needs before and around its own requests: the bootstrap connection and the API versions it
// and the broker share (ApiVersions), the brokers and each partition's leader (Metadata; with
// --advertise-shards every shard of ringlogd is a broker with a port of its own), a connection
// per broker made when first needed, a group's coordinator (FindCoordinator), and partitions'
// offsets (ListOffsets, asked of each leader). Every connect and every answer is bounded by a
// Deadline. It does not retry: a command is one-shot and reports what went wrong.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include "io/reactor.h"
#include "io/task.h"
#include "tools/ringlog/bench/kafka_client.h"
#include "tools/ringlog/client/deadline.h"
#include "tools/ringlog/client/flags.h"

namespace ringlog::tools::client {

using bench::KafkaClient;

// How long a connect or a request may take before the command gives up.
inline constexpr std::chrono::milliseconds connect_timeout{10'000};
inline constexpr std::chrono::milliseconds request_timeout{30'000};

// The version of each API this client uses: the highest both sides support, -1 for none.
struct ApiVersionsChosen {
    int16_t metadata = -1;
    int16_t produce = -1;
    int16_t fetch = -1;
    int16_t list_offsets = -1;
    int16_t create_topics = -1;
    int16_t delete_topics = -1;
    int16_t describe_configs = -1;
    int16_t find_coordinator = -1;
    int16_t offset_fetch = -1;
    int16_t offset_commit = -1;
    int16_t list_groups = -1;
    int16_t describe_groups = -1;
};

struct BrokerInfo {
    int32_t node_id = 0;
    std::string host;
    uint16_t port = 0;
};

struct PartitionInfo {
    int32_t partition = 0;
    int32_t leader = -1;
    int16_t error_code = 0;
};

struct TopicInfo {
    std::string name;
    int16_t error_code = 0;
    std::vector<PartitionInfo> partitions;  // by partition index, 0..n-1
};

// A Kafka error code as a Status: "<what>: TOPIC_ALREADY_EXISTS" (and the broker's message, if
// it sent one). kNotFound for UNKNOWN_TOPIC_OR_PARTITION, kFailedPrecondition otherwise.
[[nodiscard]] absl::Status kafka_error(int16_t error_code, std::string_view what,
                                       std::optional<std::string_view> message = std::nullopt);

// Contract: used on its reactor's thread, one request at a time. Connections live until close()
// or destruction.
class ClusterClient {
public:
    // Connects to the bootstrap broker and agrees on versions. kUnavailable when nothing listens.
    [[nodiscard]] static io::Task<absl::StatusOr<std::unique_ptr<ClusterClient>>> connect(
        io::Reactor& reactor, Endpoint bootstrap);

    const ApiVersionsChosen& versions() const { return versions_; }

    // kFailedPrecondition naming `api` when the broker and the codec share no version of it.
    [[nodiscard]] static absl::Status require(int16_t version, std::string_view api);

    KafkaClient& bootstrap() { return *bootstrap_; }

    // One request, bounded by request_timeout (plus `extra`, for a Fetch that may wait).
    template <typename Request, typename Response>
    [[nodiscard]] io::Task<absl::Status> call(KafkaClient& client, const Request& request,
                                              int16_t version, Response& response, std::string what,
                                              std::chrono::milliseconds extra = {}) {
        const Deadline deadline(request_timeout + extra, what);
        co_return co_await client.call(request, version, response);
    }

    // Metadata for `topics` (nullopt: every topic); updates brokers(). Topics come back in the
    // broker's order, each with its own error code.
    [[nodiscard]] io::Task<absl::StatusOr<std::vector<TopicInfo>>> metadata(
        std::optional<std::vector<std::string>> topics);

    // One topic whose partitions all have a leader (waits up to 10 s for them); the topic's
    // error (UNKNOWN_TOPIC_OR_PARTITION, ...) as kafka_error() otherwise.
    [[nodiscard]] io::Task<absl::StatusOr<TopicInfo>> topic(std::string name);

    const std::vector<BrokerInfo>& brokers() const { return brokers_; }

    // The connection to broker `node_id` (from the last metadata()), made on first use.
    [[nodiscard]] io::Task<absl::StatusOr<KafkaClient*>> node(int32_t node_id);

    // The connection to `group`'s coordinator.
    [[nodiscard]] io::Task<absl::StatusOr<KafkaClient*>> coordinator(std::string group);

    // The offset of each of `partitions` of `topic` at `timestamp` (-1 latest: the high
    // watermark, -2 earliest: the log start), asked of each partition's leader.
    [[nodiscard]] io::Task<absl::StatusOr<std::map<int32_t, int64_t>>> list_offsets(
        const TopicInfo& topic, std::vector<int32_t> partitions, int64_t timestamp);

    void close();

private:
    ClusterClient(io::Reactor& reactor, std::unique_ptr<KafkaClient> bootstrap)
        : reactor_(reactor), bootstrap_(std::move(bootstrap)) {}

    [[nodiscard]] io::Task<absl::StatusOr<KafkaClient*>> connect_to(std::string host,
                                                                    uint16_t port);

    io::Reactor& reactor_;
    std::unique_ptr<KafkaClient> bootstrap_;
    ApiVersionsChosen versions_;
    std::vector<BrokerInfo> brokers_;
    std::map<std::pair<std::string, uint16_t>, std::unique_ptr<KafkaClient>> connections_;
};

// A client subcommand's whole run: parses `args` by `specs` (--help or -h prints `usage`,
// exit 0; a bad flag prints the error and `usage`, exit 2), then runs `task` on a new reactor
// and turns its outcome into an exit code: 0, or 1 after printing "ringlog <command>:
// <message>" on stderr.
int run_client_command(std::string_view command, std::span<const std::string_view> args,
                       std::span<const FlagSpec> specs, const char* usage,
                       io::Task<absl::Status> (*task)(io::Reactor&, const Flags&));

}  // namespace ringlog::tools::client
