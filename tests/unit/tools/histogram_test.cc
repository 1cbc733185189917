// Histogram: bucket arithmetic at the edges, quantiles against exact answers within the
// 1/128 relative error the log-linear layout promises, and merging equals recording together.
#include "tools/ringlog/bench/histogram.h"

#include <algorithm>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace ringlog::tools::bench {
namespace {

TEST(Histogram, SmallValuesAreExact) {
    for (uint64_t v = 0; v < Histogram::exact_count; ++v) {
        const size_t bucket = Histogram::bucket_of(v);
        EXPECT_EQ(Histogram::bucket_low(bucket), v);
        EXPECT_EQ(Histogram::bucket_high(bucket), v);
    }
}

TEST(Histogram, EveryValueLiesInItsBucketWithinOnePartIn128) {
    std::mt19937_64 random(7);
    for (int i = 0; i < 100000; ++i) {
        const uint64_t v = random() >> (random() % 44 + 20);
        const size_t bucket = Histogram::bucket_of(v);
        ASSERT_LT(bucket, Histogram::bucket_count);
        ASSERT_LE(Histogram::bucket_low(bucket), v);
        ASSERT_GE(Histogram::bucket_high(bucket), v);
        const uint64_t width = Histogram::bucket_high(bucket) - Histogram::bucket_low(bucket) + 1;
        if (v < Histogram::exact_count) {
            ASSERT_EQ(width, 1u) << v;
        } else {
            ASSERT_LE(width * 128, v) << v;  // a bucket is at most 1/128 of its values
        }
    }
}

TEST(Histogram, BucketsAreContiguous) {
    for (size_t b = 1; b < Histogram::bucket_count; ++b) {
        ASSERT_EQ(Histogram::bucket_low(b), Histogram::bucket_high(b - 1) + 1) << b;
    }
}

TEST(Histogram, WorkedExampleFromTheComment) {
    EXPECT_EQ(Histogram::bucket_of(1000), 506u);
    EXPECT_EQ(Histogram::bucket_low(506), 1000u);
    EXPECT_EQ(Histogram::bucket_high(506), 1003u);
}

TEST(Histogram, QuantilesMatchSortedValues) {
    std::mt19937_64 random(11);
    std::lognormal_distribution<double> latency(10.0, 1.0);  // around 22 us in ns
    std::vector<uint64_t> values;
    Histogram histogram;
    for (int i = 0; i < 200000; ++i) {
        const auto v = static_cast<uint64_t>(latency(random));
        values.push_back(v);
        histogram.record(v);
    }
    std::sort(values.begin(), values.end());
    for (double q : {0.0, 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0}) {
        const size_t rank = std::max<size_t>(1, static_cast<size_t>(std::ceil(q * values.size())));
        const uint64_t exact = values[rank - 1];
        const uint64_t reported = histogram.quantile(q);
        EXPECT_GE(reported, exact) << q;
        EXPECT_LE(static_cast<double>(reported), static_cast<double>(exact) * (1 + 1.0 / 128) + 1)
            << q;
    }
    EXPECT_EQ(histogram.count(), values.size());
    EXPECT_EQ(histogram.min(), values.front());
    EXPECT_EQ(histogram.max(), values.back());
    EXPECT_EQ(histogram.quantile(1.0), values.back());
}

TEST(Histogram, MergeEqualsRecordingTogether) {
    Histogram a;
    Histogram b;
    Histogram both;
    for (uint64_t v = 1; v < 100000; v += 37) {
        (v % 3 == 0 ? a : b).record(v);
        both.record(v);
    }
    a.merge(b);
    EXPECT_EQ(a.counts(), both.counts());
    EXPECT_EQ(a.count(), both.count());
    EXPECT_EQ(a.min(), both.min());
    EXPECT_EQ(a.max(), both.max());
    EXPECT_DOUBLE_EQ(a.mean(), both.mean());
    EXPECT_EQ(a.quantile(0.99), both.quantile(0.99));
}

TEST(Histogram, EmptyAndHugeValues) {
    Histogram histogram;
    EXPECT_EQ(histogram.quantile(0.5), 0u);
    EXPECT_EQ(histogram.min(), 0u);
    histogram.record(UINT64_MAX);
    EXPECT_EQ(histogram.max(), UINT64_MAX);
    EXPECT_EQ(histogram.quantile(0.5), UINT64_MAX);
    histogram.reset();
    EXPECT_EQ(histogram.count(), 0u);
}

}  // namespace
}  // namespace ringlog::tools::bench
