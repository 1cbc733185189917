// murmur2: see partitioner.h. MurmurHash2 by Austin Appleby, as Kafka's Utils.murmur2 has it:
// little-endian 4-byte words, then the 1-3 tail bytes, then the final mix.
#include "tools/ringlog/bench/partitioner.h"

namespace ringlog::tools::bench {

uint32_t murmur2(std::span<const std::byte> data) {
    constexpr uint32_t seed = 0x9747b28c;
    constexpr uint32_t m = 0x5bd1e995;
    constexpr int r = 24;
    const size_t length = data.size();
    uint32_t h = seed ^ static_cast<uint32_t>(length);
    const size_t whole = length - length % 4;
    auto byte = [&](size_t i) { return static_cast<uint32_t>(data[i]); };
    for (size_t i = 0; i < whole; i += 4) {
        uint32_t k = byte(i) | byte(i + 1) << 8 | byte(i + 2) << 16 | byte(i + 3) << 24;
        k *= m;
        k ^= k >> r;
        k *= m;
        h *= m;
        h ^= k;
    }
    // Java's switch falls through from 3 to 2 to 1.
    switch (length % 4) {
        case 3:
            h ^= byte(whole + 2) << 16;
            [[fallthrough]];
        case 2:
            h ^= byte(whole + 1) << 8;
            [[fallthrough]];
        case 1:
            h ^= byte(whole);
            h *= m;
            break;
        default:
            break;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return h;
}

}  // namespace ringlog::tools::bench
