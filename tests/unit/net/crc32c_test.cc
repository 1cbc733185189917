// CRC-32C: published check values (RFC 3720 appendix B.4 and the "123456789" check), the
// hardware path against the portable one on every length up to 4 KiB plus the sizes that
// exercise the three-chain rounds, at unaligned starts, and chaining.
#include "net/kafka/crc32c.h"

#include <random>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace ringlog::net::kafka {
namespace {

std::span<const std::byte> as_bytes(std::string_view text) {
    return std::as_bytes(std::span(text.data(), text.size()));
}

std::vector<std::byte> random_bytes(size_t size, uint64_t seed) {
    std::mt19937_64 random(seed);
    std::vector<std::byte> bytes(size);
    for (auto& byte : bytes) {
        byte = static_cast<std::byte>(random());
    }
    return bytes;
}

using Function = uint32_t (*)(std::span<const std::byte>, uint32_t);

std::vector<Function> implementations() {
    std::vector<Function> out{crc32c, crc32c_portable};
    if (crc32c_hardware_supported()) {
        out.push_back(crc32c_hardware);
    }
    return out;
}

TEST(Crc32c, MatchesPublishedCheckValues) {
    std::vector<std::byte> zeros(32, std::byte{0});
    std::vector<std::byte> ones(32, std::byte{0xff});
    std::vector<std::byte> incrementing(32);
    std::vector<std::byte> decrementing(32);
    for (int i = 0; i < 32; ++i) {
        incrementing[i] = std::byte(i);
        decrementing[i] = std::byte(31 - i);
    }
    for (Function crc : implementations()) {
        EXPECT_EQ(crc(as_bytes("123456789"), 0), 0xE3069283u);
        EXPECT_EQ(crc(zeros, 0), 0x8A9136AAu);
        EXPECT_EQ(crc(ones, 0), 0x62A8AB43u);
        EXPECT_EQ(crc(incrementing, 0), 0x46DD794Eu);
        EXPECT_EQ(crc(decrementing, 0), 0x113FDB5Cu);
        EXPECT_EQ(crc({}, 0), 0u);
    }
}

TEST(Crc32c, HardwareMatchesPortableForEveryLengthAndAlignment) {
    if (!crc32c_hardware_supported()) {
        GTEST_SKIP() << "no SSE4.2 on this CPU";
    }
    const std::vector<std::byte> data = random_bytes(4096 + 64 + 8, 1);
    for (size_t start = 0; start < 8; ++start) {
        for (size_t size = 0; size <= 4096; ++size) {
            const std::span<const std::byte> bytes(data.data() + start, size);
            ASSERT_EQ(crc32c_hardware(bytes), crc32c_portable(bytes))
                << "start " << start << " size " << size;
        }
    }
}

// Sizes around the three-chain rounds: 3 x 256 (short) and 3 x 8192 (long) bytes.
TEST(Crc32c, HardwareMatchesPortableAroundRoundBoundaries) {
    if (!crc32c_hardware_supported()) {
        GTEST_SKIP() << "no SSE4.2 on this CPU";
    }
    const std::vector<std::byte> data = random_bytes(200'000, 2);
    for (size_t round : {size_t{768}, size_t{24576}}) {
        for (size_t multiple = 1; multiple <= 4; ++multiple) {
            for (size_t extra :
                 {size_t{0}, size_t{1}, size_t{7}, size_t{8}, size_t{767}, round - 1}) {
                const size_t size = round * multiple + extra;
                for (size_t start : {size_t{0}, size_t{3}}) {
                    const std::span<const std::byte> bytes(data.data() + start, size);
                    ASSERT_EQ(crc32c_hardware(bytes, 0x1234), crc32c_portable(bytes, 0x1234))
                        << "size " << size << " start " << start;
                }
            }
        }
    }
    EXPECT_EQ(crc32c_hardware(data), crc32c_portable(data));
}

TEST(Crc32c, ChainsAcrossSplits) {
    const std::vector<std::byte> data = random_bytes(100'000, 3);
    for (Function crc : implementations()) {
        const uint32_t whole = crc(data, 0);
        for (size_t split :
             {size_t{0}, size_t{1}, size_t{9}, size_t{800}, size_t{30'000}, data.size()}) {
            const std::span<const std::byte> bytes(data);
            EXPECT_EQ(crc(bytes.subspan(split), crc(bytes.first(split), 0)), whole)
                << "split " << split;
        }
    }
    EXPECT_EQ(crc32c(as_bytes("6789"), crc32c(as_bytes("12345"))), 0xE3069283u);
}

}  // namespace
}  // namespace ringlog::net::kafka
