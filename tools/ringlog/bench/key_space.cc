// KeySpace and KeyPicker: see key_space.h.
#include "tools/ringlog/bench/key_space.h"

#include <algorithm>
#include <cmath>

#include <absl/strings/str_format.h>

#include "io/base/assert.h"
#include "tools/ringlog/bench/partitioner.h"

namespace ringlog::tools::bench {

namespace {

uint64_t next_random(uint64_t& state) {
    // xorshift64*, as the batch builder's.
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545F4914F6CDD1DULL;
}

}  // namespace

KeySpace::KeySpace(int32_t keys, KeyDistribution distribution, double zipf_exponent,
                   int32_t partitions)
    : distribution_(distribution), zipf_exponent_(zipf_exponent), partitions_(partitions) {
    RL_ASSERT(keys >= 0);
    RL_ASSERT(partitions > 0);
    text_.reserve(static_cast<size_t>(keys) * key_bytes);
    partition_of_.reserve(static_cast<size_t>(keys));
    for (int32_t i = 0; i < keys; ++i) {
        const std::string name = absl::StrFormat("key-%010d", i);
        RL_ASSERT(name.size() == key_bytes);
        text_ += name;
        partition_of_.push_back(partition_for_key(name, partitions));
        total_weight_ += weight(i);
    }
}

double KeySpace::weight(int32_t index) const {
    switch (distribution_) {
        case KeyDistribution::uniform:
        case KeyDistribution::sequential:
            return 1.0;
        case KeyDistribution::zipf:
            return 1.0 / std::pow(static_cast<double>(index) + 1.0, zipf_exponent_);
    }
    return 1.0;
}

double KeySpace::share_of(std::span<const int32_t> partitions) const {
    std::vector<bool> ours(static_cast<size_t>(partitions_), false);
    for (const int32_t p : partitions) {
        ours[static_cast<size_t>(p)] = true;
    }
    double sum = 0;
    for (int32_t i = 0; i < size(); ++i) {
        if (ours[static_cast<size_t>(partition_of(i))]) {
            sum += weight(i);
        }
    }
    return total_weight_ > 0 ? sum / total_weight_ : 0;
}

KeyPicker::KeyPicker(const KeySpace& space, std::span<const int32_t> partitions, uint64_t seed)
    : space_(space), random_(seed | 1) {
    RL_ASSERT(!partitions.empty());
    const int32_t partition_max = *std::max_element(partitions.begin(), partitions.end());
    std::vector<bool> ours(static_cast<size_t>(partition_max) + 1, false);
    for (const int32_t p : partitions) {
        ours[static_cast<size_t>(p)] = true;
    }
    for (int32_t i = 0; i < space.size(); ++i) {
        const int32_t p = space.partition_of(i);
        if (p <= partition_max && ours[static_cast<size_t>(p)]) {
            eligible_.push_back(i);
        }
    }
    if (space.distribution() == KeyDistribution::zipf) {
        double sum = 0;
        cumulative_.reserve(eligible_.size());
        for (const int32_t index : eligible_) {
            sum += space.weight(index);
            cumulative_.push_back(sum);
        }
    }
}

int32_t KeyPicker::next() {
    RL_ASSERT(!eligible_.empty());
    switch (space_.distribution()) {
        case KeyDistribution::uniform:
            return eligible_[next_random(random_) % eligible_.size()];
        case KeyDistribution::sequential: {
            const int32_t index = eligible_[next_];
            next_ = next_ + 1 == eligible_.size() ? 0 : next_ + 1;
            return index;
        }
        case KeyDistribution::zipf: {
            // A uniform point in [0, total weight), found among the running sums: 53 random
            // bits make the double.
            const double unit = static_cast<double>(next_random(random_) >> 11) * 0x1.0p-53;
            const double point = unit * cumulative_.back();
            const auto at = std::upper_bound(cumulative_.begin(), cumulative_.end(), point);
            const size_t position =
                std::min(static_cast<size_t>(at - cumulative_.begin()), eligible_.size() - 1);
            return eligible_[position];
        }
    }
    return eligible_.front();
}

}  // namespace ringlog::tools::bench
