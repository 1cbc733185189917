// BenchOptions: see options.h.
#include "tools/ringlog/bench/options.h"

#include <string>

#include <absl/strings/numbers.h>
#include <absl/strings/str_cat.h>

#include "io/base/absl_compat.h"

namespace ringlog::tools::bench {

const char* const bench_usage =
    "usage: ringlog bench [produce|consume|e2e] [flags]\n"
    "  --bootstrap HOST:PORT   a broker to ask for metadata (127.0.0.1:9092)\n"
    "  --topic NAME            created if missing (ringlog-bench)\n"
    "  --partitions N          partitions of a created topic (1)\n"
    "  --topic-config K=V      a config of a created topic (repeatable), e.g. segment.bytes=N\n"
    "  --msg-size BYTES        message value size (1024)\n"
    "  --batch-size BYTES      batch size; a batch holds BYTES / msg-size messages (65536)\n"
    "  --linger-us US          with --rate: how long a partial batch may wait (1000)\n"
    "  --acks 0|1|all          (all)\n"
    "  --compression none|gzip|snappy|lz4|zstd  the producers' batch codec (none)\n"
    "  --value-entropy fixed|B value bytes after the 16-byte stamp: fixed: one random filler\n"
    "                          in every value (a codec finds all of it in the previous record);\n"
    "                          B in 0-8: each value a different slice of a pool whose bytes\n"
    "                          carry B bits each (4: about 2x with gzip or zstd) (fixed)\n"
    "  --keys N                N distinct keys; each record goes to the partition Kafka's\n"
    "                          default partitioner picks (murmur2); 0: null keys (0)\n"
    "  --key-distribution uniform|zipf[:S]|sequential  how keys are picked: at random, key k\n"
    "                          with weight 1/(k+1)^S (S 1.0), or in turn (uniform)\n"
    "  --threads N             producer threads, or consumer threads in consume mode (1)\n"
    "  --consumer-threads N    e2e: consumer threads; 0: each producer thread also runs the\n"
    "                          consumers of its partitions (fewer busy threads) (1)\n"
    "  --connections N         per thread and partition leader (1)\n"
    "  --inflight N            produce requests in flight per connection (5)\n"
    "  --request-partitions N  partitions (batches) per produce request (1)\n"
    "  --rate N                open loop at N messages/s in total, latency counted from each\n"
    "                          message's intended send time; 0: as fast as possible (0)\n"
    "  --duration S            measured seconds, after the warm-up (10)\n"
    "  --warmup S              seconds not measured at the start (1)\n"
    "  --messages N            stop after N messages in total (0: by duration)\n"
    "  --from earliest|latest  consume: where to start (earliest)\n"
    "  --fetch-wait-ms MS      Fetch max wait (100)\n"
    "  --idle-spin-us US       each thread polls for completions this long before it sleeps;\n"
    "                          costs CPU the broker may need (0)\n"
    "  --transport tcp|udp|dpdk  how Produce and Fetch travel: TCP to each leader, or the\n"
    "                          bootstrap broker's datagram transport (kernel UDP or DPDK) (tcp)\n"
    "  --dpdk 'EAL ARGS'       --transport dpdk: EAL's arguments (a memif client vdev, say)\n"
    "  --local-ip A.B.C.D      udp: the address bound; dpdk: ours on the port (127.0.0.1)\n"
    "  --json PATH             write the results as JSON\n"
    "  --plots PREFIX          write PREFIXlatency.svg and PREFIXthroughput.svg\n"
    "  --busy-poll             worker threads never wait in the kernel while idle (a core\n"
    "                          each; for DPDK, whose queues cannot wake a waiting thread)\n"
    "  --quiet                 no progress lines\n";

const char* mode_name(Mode mode) {
    switch (mode) {
        case Mode::produce:
            return "produce";
        case Mode::consume:
            return "consume";
        case Mode::e2e:
            return "e2e";
    }
    return "?";
}

std::string key_distribution_name(const BenchOptions& options) {
    switch (options.key_distribution) {
        case KeyDistribution::uniform:
            return "uniform";
        case KeyDistribution::zipf:
            return absl::StrCat("zipf:", options.zipf_exponent);
        case KeyDistribution::sequential:
            return "sequential";
    }
    return "?";
}

namespace {

template <typename Int>
bool parse_int(std::string_view text, Int& out) {
    int64_t value = 0;
    if (!absl::SimpleAtoi(base::to_absl(text), &value)) {
        return false;
    }
    out = static_cast<Int>(value);
    return static_cast<int64_t>(out) == value;
}

bool parse_double(std::string_view text, double& out) {
    return absl::SimpleAtod(base::to_absl(text), &out);
}

absl::Status bad(std::string_view flag, std::string_view value) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad value for ", base::to_absl(flag), ": '", base::to_absl(value), "'"));
}

}  // namespace

absl::StatusOr<BenchOptions> parse_bench_options(std::span<const std::string_view> args) {
    BenchOptions options;
    size_t i = 0;
    if (i < args.size() && !args[i].starts_with("--")) {
        if (args[i] == "produce") {
            options.mode = Mode::produce;
        } else if (args[i] == "consume") {
            options.mode = Mode::consume;
        } else if (args[i] == "e2e") {
            options.mode = Mode::e2e;
        } else {
            return absl::InvalidArgumentError(
                absl::StrCat("unknown mode '", base::to_absl(args[i]), "'"));
        }
        ++i;
    }
    for (; i < args.size(); ++i) {
        std::string_view flag = args[i];
        std::string_view value;
        const size_t equals = flag.find('=');
        if (equals != std::string_view::npos) {
            value = flag.substr(equals + 1);
            flag = flag.substr(0, equals);
        } else if (flag == "--quiet") {
            options.quiet = true;
            continue;
        } else if (flag == "--busy-poll") {
            options.busy_poll = true;
            continue;
        } else if (i + 1 < args.size()) {
            value = args[++i];
        } else {
            return absl::InvalidArgumentError(absl::StrCat(base::to_absl(flag), " needs a value"));
        }
        bool ok = true;
        if (flag == "--bootstrap") {
            const size_t colon = value.rfind(':');
            ok = colon != std::string_view::npos && colon > 0
                 && parse_int(value.substr(colon + 1), options.bootstrap_port);
            if (ok) {
                options.bootstrap_host = std::string(value.substr(0, colon));
            }
        } else if (flag == "--topic") {
            options.topic = std::string(value);
            ok = !value.empty();
        } else if (flag == "--topic-config") {
            const size_t equals_at = value.find('=');
            ok = equals_at != std::string_view::npos && equals_at > 0;
            if (ok) {
                options.topic_configs.emplace_back(std::string(value.substr(0, equals_at)),
                                                   std::string(value.substr(equals_at + 1)));
            }
        } else if (flag == "--partitions") {
            ok = parse_int(value, options.partitions) && options.partitions >= 1;
        } else if (flag == "--msg-size") {
            ok = parse_int(value, options.msg_bytes) && options.msg_bytes >= 1
                 && options.msg_bytes <= 64 * 1024 * 1024;
        } else if (flag == "--batch-size") {
            ok = parse_int(value, options.batch_bytes) && options.batch_bytes >= 1;
        } else if (flag == "--linger-us") {
            ok = parse_int(value, options.linger_us) && options.linger_us >= 0;
        } else if (flag == "--acks") {
            if (value == "all") {
                options.acks = -1;
            } else {
                ok = parse_int(value, options.acks)
                     && (options.acks == 0 || options.acks == 1 || options.acks == -1);
            }
        } else if (flag == "--compression") {
            ok = false;
            for (const auto codec : {net::kafka::Compression::none, net::kafka::Compression::gzip,
                                     net::kafka::Compression::snappy, net::kafka::Compression::lz4,
                                     net::kafka::Compression::zstd}) {
                if (value == compression_name(codec)) {
                    options.compression = codec;
                    ok = true;
                }
            }
        } else if (flag == "--value-entropy") {
            if (value == "fixed") {
                options.value_entropy_bits = value_entropy_fixed;
            } else {
                ok = parse_int(value, options.value_entropy_bits) && options.value_entropy_bits >= 0
                     && options.value_entropy_bits <= 8;
            }
        } else if (flag == "--keys") {
            ok = parse_int(value, options.keys) && options.keys >= 0 && options.keys <= 10'000'000;
        } else if (flag == "--key-distribution") {
            if (value == "uniform") {
                options.key_distribution = KeyDistribution::uniform;
            } else if (value == "sequential") {
                options.key_distribution = KeyDistribution::sequential;
            } else if (value == "zipf") {
                options.key_distribution = KeyDistribution::zipf;
                options.zipf_exponent = 1.0;
            } else if (value.starts_with("zipf:")) {
                options.key_distribution = KeyDistribution::zipf;
                ok = parse_double(value.substr(5), options.zipf_exponent)
                     && options.zipf_exponent > 0 && options.zipf_exponent <= 10;
            } else {
                ok = false;
            }
        } else if (flag == "--threads") {
            ok = parse_int(value, options.threads) && options.threads >= 1;
        } else if (flag == "--consumer-threads") {
            ok = parse_int(value, options.consumer_threads) && options.consumer_threads >= 0;
        } else if (flag == "--connections") {
            ok = parse_int(value, options.connections) && options.connections >= 1;
        } else if (flag == "--inflight") {
            ok = parse_int(value, options.inflight) && options.inflight >= 1;
        } else if (flag == "--request-partitions") {
            ok = parse_int(value, options.request_partitions) && options.request_partitions >= 1;
        } else if (flag == "--rate") {
            ok = parse_double(value, options.rate) && options.rate >= 0;
        } else if (flag == "--duration") {
            ok = parse_double(value, options.duration_s) && options.duration_s > 0;
        } else if (flag == "--warmup") {
            ok = parse_double(value, options.warmup_s) && options.warmup_s >= 0;
        } else if (flag == "--messages") {
            ok = parse_int(value, options.messages);
        } else if (flag == "--from") {
            ok = value == "earliest" || value == "latest";
            options.from_latest = value == "latest";
        } else if (flag == "--fetch-wait-ms") {
            ok = parse_int(value, options.fetch_max_wait_ms) && options.fetch_max_wait_ms >= 0;
        } else if (flag == "--idle-spin-us") {
            ok = parse_int(value, options.idle_spin_us) && options.idle_spin_us >= 0;
        } else if (flag == "--transport") {
            options.transport = std::string(value);
            ok = value == "tcp" || value == "udp" || value == "dpdk";
        } else if (flag == "--dpdk") {
            options.dpdk_eal_args = std::string(value);
        } else if (flag == "--local-ip") {
            options.local_ip = std::string(value);
            ok = !value.empty();
        } else if (flag == "--json") {
            options.json_path = std::string(value);
        } else if (flag == "--plots") {
            options.plots_prefix = std::string(value);
        } else {
            return absl::InvalidArgumentError(
                absl::StrCat("unknown flag '", base::to_absl(flag), "'"));
        }
        if (!ok) {
            return bad(flag, value);
        }
    }
    if (options.mode == Mode::e2e && options.msg_bytes < 16) {
        return absl::InvalidArgumentError("e2e needs --msg-size >= 16 (the send time rides in it)");
    }
    if (options.transport == "dpdk" && options.dpdk_eal_args.empty()) {
        return absl::InvalidArgumentError("--transport dpdk needs --dpdk 'EAL ARGS'");
    }
    return options;
}

}  // namespace ringlog::tools::bench
