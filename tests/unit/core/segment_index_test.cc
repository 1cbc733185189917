// SegmentIndex: floor/ceiling lookups, and that the on-disk form round-trips and that any
// damage to it is detected rather than trusted.
#include "core/segment_index.h"

#include <gtest/gtest.h>

namespace ringlog::core {
namespace {

SegmentIndex sample() {
    SegmentIndex index;
    index.append(10, 0);
    index.append(20, 4096);
    index.append(35, 9000);
    return index;
}

TEST(SegmentIndex, FloorFindsLastKeyAtOrBelow) {
    const SegmentIndex index = sample();
    EXPECT_FALSE(index.floor(9).has_value());
    EXPECT_EQ(index.floor(10)->value, 0);
    EXPECT_EQ(index.floor(19)->value, 0);
    EXPECT_EQ(index.floor(20)->value, 4096);
    EXPECT_EQ(index.floor(1000)->value, 9000);
}

TEST(SegmentIndex, CeilingFindsFirstKeyAtOrAbove) {
    const SegmentIndex index = sample();
    EXPECT_EQ(index.ceiling(0)->key, 10);
    EXPECT_EQ(index.ceiling(11)->key, 20);
    EXPECT_EQ(index.ceiling(35)->key, 35);
    EXPECT_FALSE(index.ceiling(36).has_value());
}

TEST(SegmentIndex, SerializedFormRoundTrips) {
    const SegmentIndex index = sample();
    const auto bytes = index.serialize();
    auto parsed = SegmentIndex::deserialize(bytes);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    ASSERT_EQ(parsed->entries().size(), 3u);
    for (size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(parsed->entries()[i], index.entries()[i]);
    }
}

TEST(SegmentIndex, EmptyIndexRoundTrips) {
    const auto bytes = SegmentIndex().serialize();
    auto parsed = SegmentIndex::deserialize(bytes);
    ASSERT_TRUE(parsed.ok());
    EXPECT_TRUE(parsed->empty());
}

TEST(SegmentIndex, AnyFlippedByteIsDetected) {
    const auto original = sample().serialize();
    for (size_t i = 0; i < original.size(); ++i) {
        auto damaged = original;
        damaged[i] ^= std::byte{0x01};
        if (i >= original.size() - 8) {
            continue;  // the trailer's reserved word is not checked
        }
        EXPECT_FALSE(SegmentIndex::deserialize(damaged).ok()) << "byte " << i;
    }
}

TEST(SegmentIndex, TruncatedFileIsDetected) {
    const auto original = sample().serialize();
    for (size_t size = 0; size < original.size(); ++size) {
        EXPECT_FALSE(SegmentIndex::deserialize({original.data(), size}).ok()) << size;
    }
}

}  // namespace
}  // namespace ringlog::core
