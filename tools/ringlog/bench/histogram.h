// Histogram: a log-linear latency histogram in the manner of HdrHistogram. Values below 256 are
// counted exactly; above that each power of two is split into 128 equal buckets, so a value is
// known to within 1/128 (0.8 %) of itself. Histograms of the same shape merge by adding counts,
// which is how each thread records alone and the results are combined at the end.
// It is a counting structure, not a clock: callers record whatever unit they choose (the bench
// records nanoseconds). Not thread-safe; one per thread, merged afterwards.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace ringlog::tools::bench {

class Histogram {
public:
    // Values up to 2^44 - 1 (about 4.9 hours in nanoseconds); larger ones land in the top
    // bucket, and max() still reports them exactly.
    static constexpr unsigned exact_bits = 8;             // 0..255 exact
    static constexpr unsigned sub_bits = exact_bits - 1;  // 128 buckets per octave
    static constexpr unsigned value_bits_max = 44;
    static constexpr size_t sub_count = size_t{1} << sub_bits;      // 128
    static constexpr size_t exact_count = size_t{1} << exact_bits;  // 256
    static constexpr size_t bucket_count =
        exact_count + (value_bits_max - exact_bits) * sub_count;  // 256 + 36 x 128 = 4864

    Histogram() : counts_(bucket_count, 0) {}

    void record(uint64_t value) { record_n(value, 1); }

    void record_n(uint64_t value, uint64_t count) {
        if (count == 0) {
            return;
        }
        counts_[bucket_of(value)] += count;
        total_ += count;
        sum_ += static_cast<double>(value) * static_cast<double>(count);
        if (value < min_) {
            min_ = value;
        }
        if (value > max_) {
            max_ = value;
        }
    }

    // Adds every count of `other`.
    void merge(const Histogram& other);

    void reset();

    uint64_t count() const { return total_; }

    // 0 when empty.
    uint64_t min() const { return total_ == 0 ? 0 : min_; }

    uint64_t max() const { return max_; }

    double mean() const { return total_ == 0 ? 0.0 : sum_ / static_cast<double>(total_); }

    // The smallest value v such that at least `quantile` (0..1) of the recorded values are <= v,
    // reported as the highest value of v's bucket (never above max()); 0 when empty.
    uint64_t quantile(double quantile) const;

    // The bucket a value falls in, and the range of values a bucket holds.
    static size_t bucket_of(uint64_t value);
    static uint64_t bucket_low(size_t bucket);
    static uint64_t bucket_high(size_t bucket);

    const std::vector<uint64_t>& counts() const { return counts_; }

private:
    std::vector<uint64_t> counts_;
    uint64_t total_ = 0;
    double sum_ = 0;
    uint64_t min_ = UINT64_MAX;
    uint64_t max_ = 0;
};

}  // namespace ringlog::tools::bench
