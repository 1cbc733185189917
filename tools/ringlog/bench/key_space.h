// KeySpace and KeyPicker: the --keys N distinct keys of a run, each with the partition Kafka's
// default partitioner gives it (partitioner.h) and its weight under --key-distribution, and
// each producer connection's way of drawing them. A connection reaches only its leader's
// partitions, so it draws from the keys that land there, with the same relative weights: the
// runner gives each connection a share of the rate (and of --messages) in proportion to its
// keys' weight, so in an open-loop run the keys, and so the partitions, are hit as the
// distribution says. In a closed loop every connection goes as fast as it can instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tools/ringlog/bench/options.h"

namespace ringlog::tools::bench {

// Contract: built once before the run, then read by every worker thread (immutable).
class KeySpace {
public:
    // Keys are "key-%010d", 14 bytes each.
    static constexpr size_t key_bytes = 14;

    KeySpace(int32_t keys, KeyDistribution distribution, double zipf_exponent, int32_t partitions);

    int32_t size() const { return static_cast<int32_t>(partition_of_.size()); }

    KeyDistribution distribution() const { return distribution_; }

    std::string_view key(int32_t index) const {
        return std::string_view(text_).substr(static_cast<size_t>(index) * key_bytes, key_bytes);
    }

    int32_t partition_of(int32_t index) const { return partition_of_[static_cast<size_t>(index)]; }

    // Key `index`'s weight, not normalised: 1, or 1 / (index + 1)^exponent under zipf.
    double weight(int32_t index) const;

    // The share of all key weight that lands on `partitions` (each counted once).
    double share_of(std::span<const int32_t> partitions) const;

private:
    KeyDistribution distribution_;
    double zipf_exponent_;
    int32_t partitions_;
    std::string text_;  // every key, back to back
    std::vector<int32_t> partition_of_;
    double total_weight_ = 0;
};

// Draws keys for one producer connection among those on its partitions. Contract: owned and
// used by one connection; next() allocates nothing.
class KeyPicker {
public:
    KeyPicker(const KeySpace& space, std::span<const int32_t> partitions, uint64_t seed);

    // No key lands on the connection's partitions: it has nothing to send.
    bool empty() const { return eligible_.empty(); }

    // The next key's index into the KeySpace. Needs !empty().
    int32_t next();

private:
    const KeySpace& space_;
    std::vector<int32_t> eligible_;   // key indexes on our partitions, ascending
    std::vector<double> cumulative_;  // zipf: running weight sums over eligible_
    uint64_t random_;
    size_t next_ = 0;  // sequential: the next position in eligible_
};

}  // namespace ringlog::tools::bench
