// Histogram: see histogram.h. Worked example of the bucket arithmetic: 1,000 ns has its top bit
// at position 9, so it is shifted right by 9 - 7 = 2 to 250 (in 128..255), and lands in bucket
// 256 + (2 - 1) x 128 + (250 - 128) = 506, which holds 1,000..1,003.
#include "tools/ringlog/bench/histogram.h"

#include <algorithm>
#include <cmath>

#include "io/base/assert.h"

namespace ringlog::tools::bench {

size_t Histogram::bucket_of(uint64_t value) {
    if (value < exact_count) {
        return static_cast<size_t>(value);
    }
    const unsigned top_bit = 63 - static_cast<unsigned>(__builtin_clzll(value));
    if (top_bit >= value_bits_max) {
        return bucket_count - 1;
    }
    const unsigned shift = top_bit - sub_bits;  // >= 1
    const uint64_t sub = value >> shift;        // sub_count..2 x sub_count - 1
    return exact_count + (shift - 1) * sub_count + static_cast<size_t>(sub - sub_count);
}

uint64_t Histogram::bucket_low(size_t bucket) {
    RL_ASSERT(bucket < bucket_count);
    if (bucket < exact_count) {
        return bucket;
    }
    const size_t above = bucket - exact_count;
    const unsigned shift = static_cast<unsigned>(above / sub_count) + 1;
    const uint64_t sub = sub_count + above % sub_count;
    return sub << shift;
}

uint64_t Histogram::bucket_high(size_t bucket) {
    RL_ASSERT(bucket < bucket_count);
    if (bucket < exact_count) {
        return bucket;
    }
    const size_t above = bucket - exact_count;
    const unsigned shift = static_cast<unsigned>(above / sub_count) + 1;
    const uint64_t sub = sub_count + above % sub_count;
    return ((sub + 1) << shift) - 1;
}

void Histogram::merge(const Histogram& other) {
    for (size_t i = 0; i < bucket_count; ++i) {
        counts_[i] += other.counts_[i];
    }
    total_ += other.total_;
    sum_ += other.sum_;
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
}

void Histogram::reset() {
    std::fill(counts_.begin(), counts_.end(), 0);
    total_ = 0;
    sum_ = 0;
    min_ = UINT64_MAX;
    max_ = 0;
}

uint64_t Histogram::quantile(double quantile) const {
    if (total_ == 0) {
        return 0;
    }
    quantile = std::clamp(quantile, 0.0, 1.0);
    // The rank of the value asked for, 1-based: the median of 4 values is the 2nd.
    const auto rank = std::max<uint64_t>(
        1, static_cast<uint64_t>(std::ceil(quantile * static_cast<double>(total_))));
    uint64_t seen = 0;
    for (size_t i = 0; i < bucket_count; ++i) {
        seen += counts_[i];
        if (seen >= rank) {
            return std::min(std::max(bucket_high(i), min()), max_);
        }
    }
    return max_;
}

}  // namespace ringlog::tools::bench
