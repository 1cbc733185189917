// shard_for's fixed hash and the thread-local current shard. The hash is part of the on-disk
// layout (which shard's directory holds a partition): change it and existing data moves.
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
    const uint64_t partition_bits = static_cast<uint64_t>(static_cast<uint32_t>(partition));
    const uint64_t hash = fmix64(fnv1a_64(topic) ^ (partition_bits * 0x9e3779b97f4a7c15ULL));
    return ShardId(static_cast<uint32_t>(hash % static_cast<uint64_t>(shard_count)));
}

}  // namespace ringlog::core
