// The machine's limits, measured the way the broker uses the machine, so that the bench suite
// can report every figure as a ratio to the limit that bounds it: io_uring O_DIRECT sequential
// write bandwidth (1 MiB blocks into a pre-written file), O_DIRECT 4 KiB write + fdatasync
// latency, loopback TCP stream bandwidth and round trip; and the durable-append ceiling of
// acks=all (durable_append.h: several files, a sync after each block) into pre-written and
// into fresh files. Not a disk benchmark suite: one pattern each, the ones
// ../shared/LIMITS.md calls D1, D6, N1 and N3, plus the broker's own durable pattern.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <absl/status/statusor.h>

#include "tools/ringlog/bench/histogram.h"

namespace ringlog::tools::bench {

struct ProbeOptions {
    std::string dir = "/var/tmp";
    size_t file_mib = 1024;           // the file written, pre-written once before the timed passes
    int passes = 2;                   // timed passes over it; the median is reported
    int queue_depth = 4;              // 1 MiB writes in flight
    int sync_count = 3000;            // 4 KiB write + fdatasync rounds
    double tcp_seconds = 2;           // loopback stream duration
    int pingpong_count = 20000;       // loopback round trips
    int durable_files = 8;            // files appended to at once, each synced after each block
    size_t durable_block_kib = 1024;  // bytes written between two syncs of one file
    std::string json_path;
};

struct ProbeResult {
    double disk_write_mb_per_sec = 0;  // median of the passes
    std::vector<double> disk_write_passes;
    Histogram sync_write_ns;  // one O_DIRECT 4 KiB write followed by fdatasync
    // The durable-append ceilings (medians of the passes), same total bytes as the raw pass.
    double durable_prewritten_mb_per_sec = 0;
    std::vector<double> durable_prewritten_passes;
    double durable_fresh_mb_per_sec = 0;
    std::vector<double> durable_fresh_passes;
    int durable_files = 0;
    size_t durable_block_kib = 0;
    double tcp_mb_per_sec = 0;
    Histogram tcp_round_trip_ns;  // 64 B request, 64 B response, blocking sockets
};

[[nodiscard]] absl::StatusOr<ProbeOptions> parse_probe_options(
    std::span<const std::string_view> args);

[[nodiscard]] absl::StatusOr<ProbeResult> run_probe(const ProbeOptions& options);

std::string probe_json(const ProbeResult& result);

// The same figures for a person: one line per limit.
std::string probe_summary(const ProbeResult& result);

extern const char* const probe_usage;

}  // namespace ringlog::tools::bench
