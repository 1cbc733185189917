// RunContext: what every worker of one `ringlog bench` run shares read-only (the options, the
// cluster, the clock marks), plus the few atomics that let e2e consumers know when every
// produced message has arrived. Times are steady-clock nanoseconds.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "tools/ringlog/bench/cluster.h"
#include "tools/ringlog/bench/key_space.h"
#include "tools/ringlog/bench/options.h"

namespace ringlog::tools::bench {

inline int64_t steady_now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

inline int64_t wall_now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

struct RunContext {
    const BenchOptions* options = nullptr;
    const ClusterView* cluster = nullptr;
    const KeySpace* key_space = nullptr;  // with --keys: the keys and their partitions
    // Set once by the start barrier, before any worker reads them.
    int64_t start_ns = 0;
    int64_t measure_start_ns = 0;  // start + warm-up
    int64_t end_ns = 0;            // measure_start + duration

    // Messages whose intended send time falls in [measure_start, end) are measured.
    bool measured(int64_t intended_ns) const {
        return intended_ns >= measure_start_ns && intended_ns < end_ns;
    }

    // e2e: producer connections still running, and messages they had acknowledged; consumers stop
    // once producers are done and they have fetched as many.
    mutable std::atomic<int> producers_running{0};
    mutable std::atomic<uint64_t> produced_total{0};
    mutable std::atomic<uint64_t> consumed_total{0};
};

}  // namespace ringlog::tools::bench
