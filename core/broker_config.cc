#include "core/broker_config.h"

#include <fstream>
#include <sstream>
#include <vector>

#include <absl/strings/numbers.h>
#include <absl/strings/str_cat.h>
#include <absl/strings/strip.h>

#include "io/base/status_macros.h"

namespace ringlog::core {

namespace {

absl::string_view to_absl(std::string_view s) {
    return absl::string_view(s.data(), s.size());
}

absl::Status bad_value(std::string_view name, std::string_view value, std::string_view expected) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", to_absl(name), ": '", to_absl(value), "' is not ", to_absl(expected)));
}

template <typename Int>
absl::Status parse_int(std::string_view name, std::string_view value, Int min, Int& out) {
    int64_t parsed = 0;
    if (!absl::SimpleAtoi(to_absl(value), &parsed) || parsed < static_cast<int64_t>(min)) {
        return bad_value(name, value, absl::StrCat("an integer >= ", min));
    }
    out = static_cast<Int>(parsed);
    return absl::OkStatus();
}

absl::Status parse_bool(std::string_view name, std::string_view value, bool& out) {
    if (value == "true" || value == "1" || value == "on") {
        out = true;
    } else if (value == "false" || value == "0" || value == "off") {
        out = false;
    } else {
        return bad_value(name, value, "true or false");
    }
    return absl::OkStatus();
}

struct Setting {
    std::string_view name;
    std::string_view help;
    absl::Status (*apply)(BrokerConfig&, std::string_view name, std::string_view value);
};

// One table for flags, the config file and --help, so the three cannot drift apart.
constexpr Setting settings[] = {
    {"data-dir", "folder holding one sub-folder per partition (default /var/lib/ringlog)",
     [](BrokerConfig& c, std::string_view, std::string_view v) {
         c.data_dir = std::string(v);
         return absl::OkStatus();
     }},
    {"port", "the Kafka listener's port (default 9092)",
     [](BrokerConfig& c, std::string_view n, std::string_view v) {
         RL_RETURN_IF_ERROR(parse_int(n, v, 0, c.port));
         return c.port <= 65535 ? absl::OkStatus() : bad_value(n, v, "a port number");
     }},
    {"advertised-host", "host name clients are told to connect to (default localhost)",
     [](BrokerConfig& c, std::string_view, std::string_view v) {
         c.advertised_host = std::string(v);
         return absl::OkStatus();
     }},
    {"listen-host", "address the Kafka listener binds (default 0.0.0.0: every interface)",
     [](BrokerConfig& c, std::string_view, std::string_view v) {
         c.listen_host = std::string(v);
         return absl::OkStatus();
     }},
    {"advertise-shards",
     "each shard listens on port + its index and is its own broker id in Metadata, so clients "
     "reach the core owning a partition directly (default false)",
     [](BrokerConfig& c, std::string_view n, std::string_view v) {
         return parse_bool(n, v, c.advertise_shards);
     }},
    {"request-bytes-max",
     "largest request frame; a bigger one closes the connection (default "
     "100 MiB)",
     [](BrokerConfig& c, std::string_view n, std::string_view v) {
         int64_t bytes = 0;
         RL_RETURN_IF_ERROR(parse_int<int64_t>(n, v, 1024, bytes));
         c.request_bytes_max = static_cast<size_t>(bytes);
         return absl::OkStatus();
     }},
    {"message-max-bytes",
     "largest record batch a topic accepts unless its max.message.bytes "
     "says otherwise (default 1048588)",
     [](BrokerConfig& c, std::string_view n, std::string_view v) {
         return parse_int(n, v, 64, c.max_message_bytes);
     }},
    {"shards", "number of shards, one thread per core (default 0: one per core)",
     [](BrokerConfig& c, std::string_view n, std::string_view v) {
         return parse_int(n, v, 0, c.shards);
     }},
    {"idle-spin-us",
     "microseconds an idle shard polls for completions before it sleeps, to skip a wake-up; "
     "costs CPU (default 0: sleep at once)",
     [](BrokerConfig& c, std::string_view n, std::string_view v) {
         return parse_int<int64_t>(n, v, 0, c.idle_spin_us);
     }},
    {"default-partitions", "partitions of an automatically created topic (default 1)",
     [](BrokerConfig& c, std::string_view n, std::string_view v) {
         return parse_int(n, v, 1, c.default_partitions);
     }},
    {"auto-create-topics", "create a topic on first use (default true)",
     [](BrokerConfig& c, std::string_view n, std::string_view v) {
         return parse_bool(n, v, c.auto_create_topics);
     }},
    {"durability", "always | interval | none (default always)",
     [](BrokerConfig& c, std::string_view n, std::string_view v) {
         if (v == "always") {
             c.log.durability = Durability::always;
         } else if (v == "interval") {
             c.log.durability = Durability::interval;
         } else if (v == "none") {
             c.log.durability = Durability::none;
         } else {
             return bad_value(n, v, "always, interval or none");
         }
         return absl::OkStatus();
     }},
    {"group-sync",
     "true: partitions of a shard that want a sync at the same moment share one syncfs(2) of "
     "the data directory's file system instead of an fdatasync each (it also writes back other "
     "programs' dirty files there; false syncs each partition's file alone; default true)",
     [](BrokerConfig& c, std::string_view n, std::string_view v) {
         return parse_bool(n, v, c.group_sync);
     }},
    {"sync-method",
     "how an acknowledging flush reaches stable storage: fdatasync, the writes then one "
     "fdatasync (overlapped with the next writes); dsync, one RWF_DSYNC write when the flush "
     "fits in one; adaptive, dsync for a small flush with no sync in flight, fdatasync "
     "otherwise (default fdatasync: adaptive and dsync lower the median e2e latency by about a "
     "quarter and raise its p99 by about as much, bench/README.md)",
     [](BrokerConfig& c, std::string_view n, std::string_view v) {
         if (v == "fdatasync") {
             c.log.sync_method = SyncMethod::write_then_fdatasync;
         } else if (v == "dsync") {
             c.log.sync_method = SyncMethod::dsync_write;
         } else if (v == "adaptive") {
             c.log.sync_method = SyncMethod::adaptive;
         } else {
             return bad_value(n, v, "fdatasync, dsync or adaptive");
         }
         return absl::OkStatus();
     }},
    {"flush-interval-ms", "sync period under durability=interval (default 100)",
     [](BrokerConfig& c, std::string_view n, std::string_view v) {
         return parse_int<int64_t>(n, v, 1, c.log.flush_interval_ms);
     }},
    {"segment-bytes", "roll a segment at this size (default 1 GiB)",
     [](BrokerConfig& c, std::string_view n, std::string_view v) {
         RL_RETURN_IF_ERROR(
             parse_int<int64_t>(n, v, limits::segment_bytes_min, c.log.segment_bytes));
         c.log.segment_bytes -= c.log.segment_bytes % limits::dma_alignment;
         return absl::OkStatus();
     }},
    {"segment-ms", "roll a segment at this age (default one week)",
     [](BrokerConfig& c, std::string_view n, std::string_view v) {
         return parse_int<int64_t>(n, v, 1, c.log.segment_ms);
     }},
    {"retention-bytes", "delete old segments beyond this size per partition (-1: no limit)",
     [](BrokerConfig& c, std::string_view n, std::string_view v) {
         return parse_int<int64_t>(n, v, -1, c.log.retention_bytes);
     }},
    {"retention-ms", "delete segments older than this (-1: keep forever; default one week)",
     [](BrokerConfig& c, std::string_view n, std::string_view v) {
         return parse_int<int64_t>(n, v, -1, c.log.retention_ms);
     }},
    {"delete-retention-ms",
     "how long compaction keeps a tombstone, unless a topic's delete.retention.ms says "
     "otherwise (default one day)",
     [](BrokerConfig& c, std::string_view n, std::string_view v) {
         return parse_int<int64_t>(n, v, 0, c.log.delete_retention_ms);
     }},
    {"min-cleanable-dirty-ratio",
     "clean a compact topic's partition once this share of its sealed bytes is new, unless "
     "its min.cleanable.dirty.ratio says otherwise (default 0.5)",
     [](BrokerConfig& c, std::string_view n, std::string_view v) {
         double ratio = 0;
         if (!absl::SimpleAtod(to_absl(v), &ratio) || !(ratio >= 0 && ratio <= 1)) {
             return bad_value(n, v, "a number from 0 to 1");
         }
         c.log.min_cleanable_dirty_ratio = ratio;
         return absl::OkStatus();
     }},
    {"cleaner-interval-ms",
     "how often each shard looks for compact partitions to clean (default 15000)",
     [](BrokerConfig& c, std::string_view n, std::string_view v) {
         return parse_int<int64_t>(n, v, 1, c.cleaner_interval_ms);
     }},
    {"cleaner-io-bytes-per-sec",
     "reads plus writes per second the log cleaner of one shard may spend (0: unlimited; "
     "default 64 MiB)",
     [](BrokerConfig& c, std::string_view n, std::string_view v) {
         return parse_int<uint64_t>(n, v, 0, c.cleaner_io_bytes_per_sec);
     }},
    {"log-tail-bytes", "memory kept per partition for recent reads (default 8 MiB)",
     [](BrokerConfig& c, std::string_view n, std::string_view v) {
         return parse_int<size_t>(n, v, 0, c.log.tail_bytes_max);
     }},
    {"log-dirty-bytes",
     "per partition: appends wait while more than this is appended but not yet written, so a "
     "disk that falls behind slows producers instead of growing memory (default 16 MiB)",
     [](BrokerConfig& c, std::string_view n, std::string_view v) {
         return parse_int<size_t>(n, v, limits::dma_alignment, c.log.dirty_bytes_max);
     }},
    {"log-prewrite-bytes",
     "per partition: zero-fill this far ahead of the appender while the log is idle, so durable "
     "appends overwrite written blocks (default 64 MiB; 0: off)",
     [](BrokerConfig& c, std::string_view n, std::string_view v) {
         return parse_int<int64_t>(n, v, 0, c.log.prewrite_ahead_bytes);
     }},
    {"metrics-port",
     "port of the Prometheus endpoint http://<listen-host>:PORT/metrics (default 9644; 0: any "
     "free port, printed at start; -1: none)",
     [](BrokerConfig& c, std::string_view n, std::string_view v) {
         RL_RETURN_IF_ERROR(parse_int(n, v, -1, c.metrics_port));
         return c.metrics_port <= 65535 ? absl::OkStatus() : bad_value(n, v, "a port number");
     }},
    {"tail-memory-bytes",
     "per shard: the pool of registered 1 MiB chunks the logs' in-memory tails are written "
     "and served from (default 128 MiB; a log beyond it allocates chunks on its own)",
     [](BrokerConfig& c, std::string_view n, std::string_view v) {
         return parse_int<size_t>(n, v, 1024 * 1024, c.tail_memory_bytes);
     }},
    {"datagram-host",
     "IPv4 address of the datagram transport: bound by --udp-port, owned on the DPDK port by "
     "--dpdk (default 127.0.0.1)",
     [](BrokerConfig& c, std::string_view, std::string_view v) {
         c.datagram_host = std::string(v);
         return absl::OkStatus();
     }},
    {"udp-port",
     "serve Kafka requests over the datagram protocol on kernel UDP, shard i on this port + i "
     "(default 0: off)",
     [](BrokerConfig& c, std::string_view n, std::string_view v) {
         RL_RETURN_IF_ERROR(parse_int(n, v, 0, c.udp_port));
         return c.udp_port <= 65535 ? absl::OkStatus() : bad_value(n, v, "a port number");
     }},
    {"dpdk",
     "serve the datagram protocol over DPDK, starting EAL with these arguments (quoted); with "
     "S shards, shard i polls the DPDK ports p with p mod S = i (default empty: off)",
     [](BrokerConfig& c, std::string_view, std::string_view v) {
         c.dpdk_eal_args = std::string(v);
         return absl::OkStatus();
     }},
    {"dpdk-udp-port", "the UDP port of the datagram protocol on the DPDK ports (default 9100)",
     [](BrokerConfig& c, std::string_view n, std::string_view v) {
         RL_RETURN_IF_ERROR(parse_int(n, v, 1, c.dpdk_udp_port));
         return c.dpdk_udp_port <= 65535 ? absl::OkStatus() : bad_value(n, v, "a port number");
     }},
    {"dpdk-tx",
     "how DPDK sends cached responses (fetches): extbuf, chained mbufs over the log's buffers; "
     "copy, one copy into each frame (default extbuf)",
     [](BrokerConfig& c, std::string_view n, std::string_view v) {
         if (v != "extbuf" && v != "copy") {
             return bad_value(n, v, "extbuf or copy");
         }
         c.dpdk_external_buffers = v == "extbuf";
         return absl::OkStatus();
     }},
    {"busy-poll",
     "true: shards busy-poll and never wait in the kernel, a core each even when idle, so a "
     "DPDK datagram after a quiet spell is seen at once (default false: idle shards back off "
     "up to 1 ms)",
     [](BrokerConfig& c, std::string_view n, std::string_view v) {
         if (v != "true" && v != "false") {
             return bad_value(n, v, "true or false");
         }
         c.busy_poll = v == "true";
         return absl::OkStatus();
     }},
    {"dpdk-peer-mac",
     "Ethernet address for frames to peers not yet heard from (default: broadcast)",
     [](BrokerConfig& c, std::string_view, std::string_view v) {
         c.dpdk_peer_mac = std::string(v);
         return absl::OkStatus();
     }},
};

absl::Status apply_file(BrokerConfig& config, const std::string& path) {
    std::ifstream file(path);
    if (!file) {
        return absl::NotFoundError(absl::StrCat("--config: cannot read ", path));
    }
    std::string line;
    for (int number = 1; std::getline(file, line); ++number) {
        absl::string_view text = absl::StripAsciiWhitespace(line);
        if (text.empty() || text[0] == '#') {
            continue;
        }
        const size_t equals = text.find('=');
        if (equals == absl::string_view::npos) {
            return absl::InvalidArgumentError(
                absl::StrCat(path, ":", number, ": expected name = value"));
        }
        const absl::string_view name = absl::StripAsciiWhitespace(text.substr(0, equals));
        const absl::string_view value = absl::StripAsciiWhitespace(text.substr(equals + 1));
        absl::Status status =
            apply_broker_setting(config, std::string_view(name.data(), name.size()),
                                 std::string_view(value.data(), value.size()));
        if (!status.ok()) {
            return absl::InvalidArgumentError(
                absl::StrCat(path, ":", number, ": ", status.message()));
        }
    }
    return absl::OkStatus();
}

}  // namespace

absl::Status apply_broker_setting(BrokerConfig& config, std::string_view name,
                                  std::string_view value) {
    for (const Setting& setting : settings) {
        if (setting.name == name) {
            return setting.apply(config, name, value);
        }
    }
    return absl::InvalidArgumentError(absl::StrCat("unknown setting --", to_absl(name)));
}

absl::StatusOr<BrokerConfig> parse_broker_config(std::span<const std::string_view> args) {
    // Pairs of (name, value), accepting both "--name value" and "--name=value".
    std::vector<std::pair<std::string_view, std::string_view>> given;
    for (size_t i = 0; i < args.size(); ++i) {
        std::string_view arg = args[i];
        if (arg.substr(0, 2) != "--") {
            return absl::InvalidArgumentError(
                absl::StrCat("unexpected argument '", to_absl(arg), "'"));
        }
        arg.remove_prefix(2);
        const size_t equals = arg.find('=');
        if (equals != std::string_view::npos) {
            given.emplace_back(arg.substr(0, equals), arg.substr(equals + 1));
        } else if (arg == "advertise-shards"
                   && (i + 1 == args.size() || args[i + 1].substr(0, 2) == "--")) {
            given.emplace_back(arg, "true");  // a bare switch
        } else if (i + 1 < args.size()) {
            given.emplace_back(arg, args[++i]);
        } else {
            return absl::InvalidArgumentError(absl::StrCat("--", to_absl(arg), " needs a value"));
        }
    }
    BrokerConfig config;
    for (const auto& [name, value] : given) {
        if (name == "config") {
            RL_RETURN_IF_ERROR(apply_file(config, std::string(value)));
        }
    }
    for (const auto& [name, value] : given) {
        if (name != "config") {
            RL_RETURN_IF_ERROR(apply_broker_setting(config, name, value));
        }
    }
    if (config.udp_port != 0 && !config.dpdk_eal_args.empty()) {
        return absl::InvalidArgumentError(
            "--udp-port and --dpdk: the datagram transport runs over one of them, not both");
    }
    return config;
}

std::string broker_usage() {
    std::ostringstream out;
    out << "usage: ringlogd [--name value]...\n\n  --config FILE  settings as 'name = value' "
           "lines; "
           "flags override them\n";
    for (const Setting& setting : settings) {
        out << "  --" << setting.name << "  " << setting.help << "\n";
    }
    return out.str();
}

}  // namespace ringlog::core
