// shard_for's placement and the thread-local current shard.
#include "core/shard.h"

namespace ringlog::core {

thread_local Shard* Shard::current_ = nullptr;

namespace {

uint64_t fnv1a_64(std::string_view bytes) {
    uint64_t hash = 0xcbf29ce484222325ULL;
    for (const char byte : bytes) {
        hash ^= static_cast<uint8_t>(byte);
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

// MurmurHash3's 64-bit finalizer: every input bit affects every output bit.
uint64_t fmix64(uint64_t hash) {
    hash ^= hash >> 33;
    hash *= 0xff51afd7ed558ccdULL;
    hash ^= hash >> 33;
    hash *= 0xc4ceb9fe1a85ec53ULL;
    hash ^= hash >> 33;
    return hash;
}

}  // namespace

ShardId shard_for(std::string_view topic, int32_t partition, int shard_count) {
    RL_ASSERT(shard_count > 0);
    const uint64_t shards = static_cast<uint64_t>(shard_count);
    const uint64_t start = fmix64(fnv1a_64(topic)) % shards;
    // A negative index (a bad request, answered with an error by its owner) still maps.
    const uint64_t index = static_cast<uint32_t>(partition);
    return ShardId(static_cast<uint32_t>((start + index) % shards));
}

}  // namespace ringlog::core
