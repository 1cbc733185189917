// murmur2 and partition_for_key against Kafka's own values: UtilsTest.testMurmur2's vectors
// (signed Java ints, so compared as the same 32 bits), and the partitions they give under
// Utils.toPositive(hash) % partitions. The integration test (test_bench_cli.py) checks the
// same choice against what librdkafka's murmur2_random partitioner does.
#include "tools/ringlog/bench/partitioner.h"

#include <string_view>

#include <gtest/gtest.h>

namespace ringlog::tools::bench {
namespace {

uint32_t murmur2_of(std::string_view text) {
    return murmur2(std::span(reinterpret_cast<const std::byte*>(text.data()), text.size()));
}

TEST(Partitioner, Murmur2MatchesKafkasUtilsTest) {
    const std::pair<std::string_view, int32_t> vectors[] = {
        {"21", -973932308},
        {"foobar", -790332482},
        {"a-little-bit-long-string", -985981536},
        {"a-little-bit-longer-string", -1486304829},
        {"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
        {"abc", 479470107},
    };
    for (const auto& [key, java] : vectors) {
        EXPECT_EQ(murmur2_of(key), static_cast<uint32_t>(java)) << key;
    }
}

TEST(Partitioner, PartitionIsThePositiveHashModuloTheCount) {
    // "21": murmur2 0xC5F2F8EC (-973932308); toPositive clears the sign bit: 0x45F2F8EC =
    // 1173551340, and 1173551340 % 8 = 4, % 3 = 0 (1173551340 = 3 * 391183780).
    EXPECT_EQ(partition_for_key("21", 8), 4);
    EXPECT_EQ(partition_for_key("21", 3), 0);
    EXPECT_EQ(partition_for_key("21", 1), 0);
    // "abc": 479470107 is already positive; % 10 = 7.
    EXPECT_EQ(partition_for_key("abc", 10), 7);
    for (const auto& key : {"", "a", "ab", "abc", "abcd", "abcde", "key-0000000042"}) {
        for (const int32_t partitions : {1, 2, 7, 16, 1000}) {
            const int32_t partition = partition_for_key(key, partitions);
            EXPECT_GE(partition, 0);
            EXPECT_LT(partition, partitions);
            EXPECT_EQ(static_cast<uint32_t>(partition),
                      (murmur2_of(key) & 0x7fffffffU) % static_cast<uint32_t>(partitions));
        }
    }
}

}  // namespace
}  // namespace ringlog::tools::bench
