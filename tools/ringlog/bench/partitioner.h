// The partition a Kafka client's default partitioner puts a keyed record on: murmur2 of the
// key bytes (Kafka's Utils.murmur2, seed 0x9747b28c), made positive by clearing the sign bit
// (Utils.toPositive), modulo the partition count. The Java client's DefaultPartitioner and
// librdkafka's `partitioner=murmur2_random` agree on it, so the load generator's keyed records
// land where those clients would put them. Null keys are not this file's business.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace ringlog::tools::bench {

// Kafka's Utils.murmur2 as an unsigned 32-bit value (Java returns the same bits as an int).
uint32_t murmur2(std::span<const std::byte> data);

inline int32_t partition_for_key(std::string_view key, int32_t partitions) {
    const uint32_t hash =
        murmur2(std::span(reinterpret_cast<const std::byte*>(key.data()), key.size()));
    return static_cast<int32_t>((hash & 0x7fffffffU) % static_cast<uint32_t>(partitions));
}

}  // namespace ringlog::tools::bench
