// LatencyBuckets: a Prometheus histogram's cumulative buckets for one latency, in microseconds,
// with fixed bounds from 50 us to 10 s. Small (18 counters) so there can be one per API per
// shard and one per log; the bench's log-linear histogram is for percentiles, this is for
// scraping. Not thread-safe: each shard records its own and the scrape reads them on that shard.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace ringlog::core::metrics {

class LatencyBuckets {
public:
    static constexpr std::array<uint64_t, 17> bounds_us = {
        50,     100,     250,     500,     1'000,     2'500,     5'000,     10'000,    25'000,
        50'000, 100'000, 250'000, 500'000, 1'000'000, 2'500'000, 5'000'000, 10'000'000};

    void record(uint64_t us) {
        size_t i = 0;
        while (i < bounds_us.size() && us > bounds_us[i]) {
            ++i;
        }
        ++counts_[i];  // counts_[bounds_us.size()] is +Inf
        ++count_;
        sum_us_ += us;
    }

    // Observations <= bounds_us[i] (Prometheus buckets are cumulative).
    uint64_t cumulative(size_t i) const {
        uint64_t total = 0;
        for (size_t j = 0; j <= i && j < counts_.size(); ++j) {
            total += counts_[j];
        }
        return total;
    }

    uint64_t count() const { return count_; }

    uint64_t sum_us() const { return sum_us_; }

private:
    std::array<uint64_t, bounds_us.size() + 1> counts_{};
    uint64_t count_ = 0;
    uint64_t sum_us_ = 0;
};

}  // namespace ringlog::core::metrics
