// CodecContext: one context compresses and inflates many inputs of every codec in turn, each
// result equal to what the one-shot compression.h functions read back; a reused output buffer
// keeps its storage once it has grown; a failed inflate leaves the context usable; and the
// output bound holds for a reused buffer larger than the bound.
#include "net/kafka/codec_context.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "net/kafka/compression.h"

namespace ringlog::net::kafka {
namespace {

constexpr Compression codecs[] = {Compression::none, Compression::gzip, Compression::snappy,
                                  Compression::lz4, Compression::zstd};

// Text-like bytes from a seed: compressible, different for every seed.
std::vector<std::byte> sample(size_t size, uint64_t seed) {
    std::vector<std::byte> out(size);
    uint64_t state = seed * 0x9e3779b97f4a7c15ULL + 1;
    for (auto& byte : out) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        byte = static_cast<std::byte>('a' + state % 16);
    }
    return out;
}

TEST(CodecContext, ReusedContextRoundTripsEveryCodecManyTimes) {
    CodecContext context;
    std::vector<std::byte> compressed;
    std::vector<std::byte> inflated;
    for (int round = 0; round < 3; ++round) {
        for (const Compression codec : codecs) {
            for (const size_t size : {size_t{0}, size_t{1}, size_t{1000}, size_t{300'000}}) {
                const std::vector<std::byte> input =
                    sample(size, size + static_cast<size_t>(round));
                compressed.resize(std::max(compressed.size(), context.compress_bound(codec, size)));
                absl::StatusOr<size_t> length = context.compress(codec, input, compressed);
                ASSERT_TRUE(length.ok()) << length.status();
                const std::span<const std::byte> frame(compressed.data(), *length);
                // The one-shot reader agrees with what the context wrote.
                // (A bound of exactly the size would refuse gzip's empty stream: it needs room
                // to look for more.)
                absl::StatusOr<std::vector<std::byte>> one_shot =
                    decompress(codec, frame, size + 1);
                ASSERT_TRUE(one_shot.ok()) << one_shot.status();
                EXPECT_EQ(*one_shot, input);
                absl::StatusOr<size_t> got = context.decompress(codec, frame, size + 1, inflated);
                ASSERT_TRUE(got.ok()) << got.status();
                ASSERT_EQ(*got, size);
                EXPECT_TRUE(std::equal(input.begin(), input.end(), inflated.begin()));
            }
        }
    }
}

TEST(CodecContext, ReusedBuffersKeepTheirStorage) {
    CodecContext context;
    const std::vector<std::byte> input = sample(64 * 1024, 7);
    for (const Compression codec : codecs) {
        std::vector<std::byte> compressed(context.compress_bound(codec, input.size()));
        std::vector<std::byte> inflated;
        absl::StatusOr<size_t> length = context.compress(codec, input, compressed);
        ASSERT_TRUE(length.ok()) << length.status();
        const std::span<const std::byte> frame(compressed.data(), *length);
        ASSERT_TRUE(context.decompress(codec, frame, input.size(), inflated).ok());
        const std::byte* storage = inflated.data();
        for (int i = 0; i < 20; ++i) {
            length = context.compress(codec, input, compressed);
            ASSERT_TRUE(length.ok()) << length.status();
            absl::StatusOr<size_t> got =
                context.decompress(codec, std::span<const std::byte>(compressed.data(), *length),
                                   input.size(), inflated);
            ASSERT_TRUE(got.ok()) << got.status();
            EXPECT_EQ(*got, input.size());
        }
        EXPECT_EQ(inflated.data(), storage) << static_cast<int>(codec);
    }
}

TEST(CodecContext, FailuresLeaveTheContextUsable) {
    CodecContext context;
    const std::vector<std::byte> input = sample(10'000, 3);
    std::vector<std::byte> inflated(1 << 20);  // larger than any bound below
    for (const Compression codec : codecs) {
        std::vector<std::byte> compressed(context.compress_bound(codec, input.size()));
        absl::StatusOr<size_t> length = context.compress(codec, input, compressed);
        ASSERT_TRUE(length.ok()) << length.status();
        const std::span<const std::byte> frame(compressed.data(), *length);
        // Past the bound, even though the buffer would hold it.
        absl::StatusOr<size_t> capped = context.decompress(codec, frame, 9'999, inflated);
        EXPECT_EQ(capped.status().code(), absl::StatusCode::kResourceExhausted)
            << static_cast<int>(codec) << " " << capped.status();
        if (codec != Compression::none) {
            absl::StatusOr<size_t> truncated =
                context.decompress(codec, frame.first(frame.size() / 2), 1 << 20, inflated);
            EXPECT_FALSE(truncated.ok()) << static_cast<int>(codec);
        }
        absl::StatusOr<size_t> whole = context.decompress(codec, frame, input.size(), inflated);
        ASSERT_TRUE(whole.ok()) << static_cast<int>(codec) << " " << whole.status();
        EXPECT_TRUE(std::equal(input.begin(), input.end(), inflated.begin()));
    }
}

TEST(CodecContext, TargetSmallerThanTheBoundIsRefused) {
    CodecContext context;
    const std::vector<std::byte> input = sample(1000, 1);
    std::vector<std::byte> target(10);
    EXPECT_FALSE(context.compress(Compression::zstd, input, target).ok());
}

}  // namespace
}  // namespace ringlog::net::kafka
