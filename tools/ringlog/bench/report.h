// What a finished `ringlog bench` run leaves behind: the summary with the full percentile
// spectrum on stdout, the JSON results file (messages_per_sec, mb_per_sec, latency_us with
// p50/p99/p999/max, and more), and the two SVG plots.
#pragma once

#include <string>

#include <absl/status/status.h>

#include "tools/ringlog/bench/runner.h"

namespace ringlog::tools::bench {

// The latency a mode is judged by: e2e for e2e, the acknowledgement for produce, the Fetch
// round trip for consume.
const Histogram& primary_latency(const BenchResult& result);

void print_summary(const BenchResult& result);

std::string results_json(const BenchResult& result);

[[nodiscard]] absl::Status write_json(const BenchResult& result, const std::string& path);

// <prefix>latency.svg and <prefix>throughput.svg.
[[nodiscard]] absl::Status write_plots(const BenchResult& result, const std::string& prefix);

}  // namespace ringlog::tools::bench
