// run_bench: one `ringlog bench` run. Learns the cluster, plans which thread owns which
// partitions and connections, starts the worker threads (one reactor each), prints a progress
// line per second while they run, and merges what they measured.
#pragma once

#include <deque>
#include <string>
#include <vector>

#include <absl/status/statusor.h>

#include "tools/ringlog/bench/cluster.h"
#include "tools/ringlog/bench/options.h"
#include "tools/ringlog/bench/recorder.h"

namespace ringlog::tools::bench {

struct BenchResult {
    BenchOptions options;
    ClusterView cluster;
    int producer_connections = 0;
    int consumer_connections = 0;
    double measured_s = 0;  // the measured window actually used
    Interval measured;      // merged over every thread
    uint64_t sent = 0;      // totals over the whole run, warm-up included
    uint64_t acked = 0;
    uint64_t failed = 0;
    uint64_t consumed = 0;
    std::deque<Interval> seconds;  // per second from the start, warm-up included
    std::vector<std::string> errors;
};

[[nodiscard]] absl::StatusOr<BenchResult> run_bench(const BenchOptions& options);

}  // namespace ringlog::tools::bench
