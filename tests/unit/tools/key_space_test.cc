// KeySpace and KeyPicker: keys have the murmur2 partition; a picker draws only keys on its
// connection's partitions; uniform and zipf draws follow their weights (counted over many
// draws from a fixed seed, with wide margins); sequential goes round in key order; the
// shares of all connections add up to one.
#include "tools/ringlog/bench/key_space.h"

#include <map>
#include <vector>

#include <gtest/gtest.h>

#include "tools/ringlog/bench/partitioner.h"

namespace ringlog::tools::bench {
namespace {

TEST(KeySpace, KeysCarryTheirDefaultPartitionerPartition) {
    const KeySpace space(1000, KeyDistribution::uniform, 1.0, 7);
    ASSERT_EQ(space.size(), 1000);
    EXPECT_EQ(space.key(0), "key-0000000000");
    EXPECT_EQ(space.key(999), "key-0000000999");
    std::vector<int32_t> per_partition(7, 0);
    for (int32_t i = 0; i < space.size(); ++i) {
        EXPECT_EQ(space.partition_of(i), partition_for_key(space.key(i), 7));
        ++per_partition[static_cast<size_t>(space.partition_of(i))];
    }
    for (const int32_t count : per_partition) {
        EXPECT_GT(count, 1000 / 7 / 2);  // murmur2 spreads them
    }
    const std::vector<int32_t> all = {0, 1, 2, 3, 4, 5, 6};
    EXPECT_DOUBLE_EQ(space.share_of(all), 1.0);
    const std::vector<int32_t> odd = {1, 3, 5};
    const std::vector<int32_t> even = {0, 2, 4, 6};
    EXPECT_NEAR(space.share_of(odd) + space.share_of(even), 1.0, 1e-12);
}

TEST(KeyPicker, DrawsOnlyKeysOnItsPartitions) {
    for (const auto distribution :
         {KeyDistribution::uniform, KeyDistribution::zipf, KeyDistribution::sequential}) {
        const KeySpace space(500, distribution, 1.0, 8);
        const std::vector<int32_t> ours = {2, 5};
        KeyPicker picker(space, ours, 11);
        ASSERT_FALSE(picker.empty());
        for (int i = 0; i < 10'000; ++i) {
            const int32_t p = space.partition_of(picker.next());
            EXPECT_TRUE(p == 2 || p == 5) << p;
        }
    }
    // One key, eight partitions: seven connections would have nothing to send.
    const KeySpace lonely(1, KeyDistribution::uniform, 1.0, 8);
    int empty = 0;
    for (int32_t p = 0; p < 8; ++p) {
        const std::vector<int32_t> one = {p};
        empty += KeyPicker(lonely, one, 1).empty() ? 1 : 0;
    }
    EXPECT_EQ(empty, 7);
}

TEST(KeyPicker, UniformAndZipfFollowTheirWeights) {
    const std::vector<int32_t> all = {0};
    constexpr int draws = 200'000;
    {
        const KeySpace space(10, KeyDistribution::uniform, 1.0, 1);
        KeyPicker picker(space, all, 3);
        std::map<int32_t, int> counts;
        for (int i = 0; i < draws; ++i) {
            ++counts[picker.next()];
        }
        ASSERT_EQ(counts.size(), 10u);
        for (const auto& [key, count] : counts) {
            EXPECT_NEAR(count, draws / 10, draws / 100) << key;
        }
    }
    {
        // zipf:1 over 4 keys: weights 1, 1/2, 1/3, 1/4 of 25/12.
        const KeySpace space(4, KeyDistribution::zipf, 1.0, 1);
        KeyPicker picker(space, all, 5);
        std::vector<int> counts(4, 0);
        for (int i = 0; i < draws; ++i) {
            ++counts[static_cast<size_t>(picker.next())];
        }
        const double total = 25.0 / 12.0;
        for (size_t k = 0; k < 4; ++k) {
            const double expected = draws * (1.0 / static_cast<double>(k + 1)) / total;
            EXPECT_NEAR(counts[k], expected, draws / 100.0) << k;
        }
    }
}

TEST(KeyPicker, SequentialGoesRoundInKeyOrder) {
    const KeySpace space(50, KeyDistribution::sequential, 1.0, 4);
    const std::vector<int32_t> ours = {1, 3};
    KeyPicker picker(space, ours, 1);
    std::vector<int32_t> first_round;
    int32_t previous = -1;
    for (;;) {
        const int32_t key = picker.next();
        if (key <= previous) {
            EXPECT_EQ(key, first_round.front());  // wrapped around
            break;
        }
        first_round.push_back(key);
        previous = key;
    }
    size_t expected = 0;
    for (int32_t i = 0; i < 50; ++i) {
        const int32_t p = space.partition_of(i);
        expected += (p == 1 || p == 3) ? 1 : 0;
    }
    EXPECT_EQ(first_round.size(), expected);
}

}  // namespace
}  // namespace ringlog::tools::bench
