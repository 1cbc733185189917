// The broker's settings, from flags and an optional config file. Flag names are fixed because
// operators' scripts rely on them: --data-dir, --port, --advertised-host, --shards, --config.
// A config file holds the same names without the dashes, one `name = value` per line; flags
// given on the command line win over the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <absl/status/statusor.h>

#include "core/log_config.h"

namespace ringlog::core {

struct BrokerConfig {
    std::string data_dir = "/var/lib/ringlog";
    int port = 9092;
    std::string advertised_host = "localhost";
    std::string listen_host = "0.0.0.0";
    bool advertise_shards = false;
    size_t request_bytes_max = 100 * 1024 * 1024;  // Kafka's socket.request.max.bytes
    int32_t max_message_bytes = 1024 * 1024 + 12;  // Kafka's message.max.bytes
    size_t tail_memory_bytes = 128 * 1024 * 1024;  // per shard
    int metrics_port = 9644;                       // -1: no /metrics; 0: any free port
    int shards = 0;                                // 0: one per core
    // Microseconds a shard with nothing to do looks for completions before it sleeps
    // (io::ReactorOptions::idle_spin). Off by default: on a machine with no spare core the
    // spinning costs the threads it waits for (bench/README.md, "End-to-end latency").
    int64_t idle_spin_us = 0;
    int default_partitions = 1;
    bool auto_create_topics = true;
    int64_t retention_check_interval_ms = 60'000;
    // The log cleaner of compact topics: how often each shard looks for logs to clean (Kafka's
    // log.cleaner.backoff.ms), and the bytes per second of reads and writes it may spend
    // (0: unlimited).
    int64_t cleaner_interval_ms = 15'000;
    uint64_t cleaner_io_bytes_per_sec = 64ULL * 1024 * 1024;
    LogConfig log;  // defaults for every partition's log
    // A shard's partitions that want a sync at once share one syncfs (core/group_sync.h).
    bool group_sync = true;

    // The datagram transport (net/dpdk/README.md), beside the TCP listener: kernel UDP when
    // udp_port is set (shard i on udp_port + i), DPDK when dpdk_eal_args is (with S shards,
    // shard i polls every DPDK port p with p mod S = i, all on UDP port dpdk_udp_port), never
    // both. Clients open sessions through the Kafka listener (net/dpdk/control.h).
    std::string datagram_host = "127.0.0.1";  // IPv4 address bound (UDP) or owned (DPDK)
    int udp_port = 0;                         // 0: no kernel UDP transport
    std::string dpdk_eal_args;                // empty: no DPDK transport
    int dpdk_udp_port = 9100;
    std::string dpdk_peer_mac;  // where frames to unknown peers go; empty: broadcast
    // Fetch (and other cached) responses leave as external-buffer mbufs over the log's buffers
    // (true) or are copied into each frame (false); dpdk_port.h.
    bool dpdk_external_buffers = true;
    // Shards busy-poll without ever waiting in the kernel (a core each, even when idle), so a
    // datagram after a quiet spell is seen at once; off, an idle shard backs off (io/reactor.h).
    bool busy_poll = false;
};

// Parses argv-style arguments (without the program name). `--config FILE` is read first and
// the other flags override what it says. kInvalidArgument names the offending flag or line.
[[nodiscard]] absl::StatusOr<BrokerConfig> parse_broker_config(
    std::span<const std::string_view> args);

// Applies one setting by name (a flag without its dashes, or a config-file key).
[[nodiscard]] absl::Status apply_broker_setting(BrokerConfig& config, std::string_view name,
                                                std::string_view value);

// The text of `ringlogd --help`.
std::string broker_usage();

}  // namespace ringlog::core
