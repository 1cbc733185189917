// BenchOptions: what `ringlog bench` was asked to do, parsed from its flags. Flag names are
// part of the interface (scripts and the issue use them): --bootstrap, --topic, --partitions,
// --msg-size, --acks, --rate, --duration, --json keep their names.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <absl/status/statusor.h>

#include "net/kafka/record_batch.h"

namespace ringlog::tools::bench {

enum class Mode { produce, consume, e2e };

// How a producer picks each message's key among the --keys distinct ones (key_space.h).
enum class KeyDistribution { uniform, zipf, sequential };

// Value bytes after the stamp: one random filler repeated in every value (the default, as
// before codecs existed), or slices of a pool whose bytes carry value_entropy_bits each.
inline constexpr int value_entropy_fixed = -1;

struct BenchOptions {
    Mode mode = Mode::produce;
    std::string bootstrap_host = "127.0.0.1";
    uint16_t bootstrap_port = 9092;
    std::string topic = "ringlog-bench";
    int32_t partitions = 1;  // created with this many when the topic is missing
    // Topic configs (name, value) for a created topic, e.g. segment.bytes.
    std::vector<std::pair<std::string, std::string>> topic_configs;
    size_t msg_bytes = 1024;         // value size of each message
    size_t batch_bytes = 64 * 1024;  // a batch holds batch_bytes / msg_bytes messages (>= 1)
    int64_t linger_us = 1000;        // --rate only: how long a partial batch may wait
    int16_t acks = -1;               // 0, 1 or -1 (all)
    net::kafka::Compression compression = net::kafka::Compression::none;
    int value_entropy_bits = value_entropy_fixed;  // or 0-8 bits per value byte
    int32_t keys = 0;                              // distinct keys; 0: null keys
    KeyDistribution key_distribution = KeyDistribution::uniform;
    double zipf_exponent = 1.0;      // zipf: key k (from 0) has weight 1 / (k + 1)^exponent
    int32_t threads = 1;             // producer threads (consumer threads in consume mode)
    int32_t consumer_threads = 1;    // e2e only; 0: consumers on the producer threads
    int32_t connections = 1;         // per thread and partition leader
    int32_t inflight = 5;            // produce requests in flight per connection
    int32_t request_partitions = 1;  // batches (partitions) per produce request
    double rate = 0;                 // messages per second in total; 0: as fast as possible
    double duration_s = 10;          // measured time, after the warm-up
    double warmup_s = 1;
    uint64_t messages = 0;     // stop after this many (in total); 0: duration only
    bool from_latest = false;  // consume: start at the end instead of the start
    int32_t fetch_max_wait_ms = 100;
    int64_t idle_spin_us = 0;  // io::ReactorOptions::idle_spin of every worker thread
    int32_t partition_fetch_bytes = 4 * 1024 * 1024;
    // Produce and Fetch over "tcp" (to each leader) or the datagram transport, "udp" or "dpdk"
    // (sessions to the bootstrap broker's shards); control requests always go over TCP.
    std::string transport = "tcp";
    std::string dpdk_eal_args;           // dpdk: EAL's arguments
    std::string local_ip = "127.0.0.1";  // udp: bound; dpdk: ours on the DPDK port
    std::string json_path;               // results; empty: none
    std::string plots_prefix;            // <prefix>latency.svg, <prefix>throughput.svg
    bool quiet = false;                  // no progress lines
    bool busy_poll = false;              // worker reactors never back off into the kernel

    size_t batch_messages() const {
        return batch_bytes / msg_bytes == 0 ? 1 : batch_bytes / msg_bytes;
    }
};

const char* mode_name(Mode mode);

// Kafka's names: none, gzip, snappy, lz4, zstd (compression.type).
using net::kafka::compression_name;

// uniform, zipf:S or sequential, as --key-distribution takes it.
std::string key_distribution_name(const BenchOptions& options);

// kInvalidArgument naming the flag at fault.
[[nodiscard]] absl::StatusOr<BenchOptions> parse_bench_options(
    std::span<const std::string_view> args);

extern const char* const bench_usage;

}  // namespace ringlog::tools::bench
