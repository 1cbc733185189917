// IoBudget: a rate limit in bytes per second for background I/O (the log cleaner), enforced by
// making the spender sleep on its reactor's timer, so foreground work (appends, fetches) keeps
// the disk and the core. Not a fairness scheduler: one budget per shard, spent by whoever asks.
#pragma once

#include <chrono>
#include <cstdint>

#include "io/task.h"

namespace ringlog::io {

// Contract: used on one reactor's thread. spend() completes once the bytes fit the rate: the
// budget tracks when it will next be free, and a spender who runs ahead sleeps until then.
// Bursts are bounded by one spend() call: the budget never saves up idle time beyond `burst`.
class IoBudget {
public:
    // 0 bytes per second: unlimited (spend() never sleeps).
    explicit IoBudget(uint64_t bytes_per_sec,
                      std::chrono::nanoseconds burst = std::chrono::milliseconds(100))
        : bytes_per_sec_(bytes_per_sec), burst_(burst) {}

    uint64_t bytes_per_sec() const { return bytes_per_sec_; }

    // Bytes spent so far, for stats and tests.
    uint64_t spent_bytes() const { return spent_bytes_; }

    [[nodiscard]] Task<void> spend(uint64_t bytes);

private:
    uint64_t bytes_per_sec_;
    std::chrono::nanoseconds burst_;
    std::chrono::steady_clock::time_point free_at_{};
    uint64_t spent_bytes_ = 0;
};

}  // namespace ringlog::io
