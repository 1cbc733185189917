// Shard: one core's worth of the broker, a thread with its own reactor (DESIGN.md, "The
// shard"). This header holds what code running on a shard needs to know about where it runs:
// its id, its reactor, and the fixed mapping from a topic-partition to the shard that owns it.
// Starting, stopping and messaging between shards is ShardSet (core/shard_set.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "io/base/assert.h"
#include "io/base/strong_int.h"
#include "io/doorbell.h"
#include "io/reactor.h"
#include "io/task.h"

namespace ringlog::core {

using ShardId = base::StrongInt<struct ShardIdTag, uint32_t>;

// The shard that owns partition `partition` of `topic` among `shard_count` shards: a topic's
// partitions go round the shards in order, from a first shard its name picks,
//   start = murmur3 fmix64(FNV-1a 64 of the topic's bytes) % shard_count
//   shard = (start + partition) % shard_count
// so each shard owns floor(n / shard_count) or ceil(n / shard_count) of a topic's n
// partitions, and the topics' first partitions spread over the shards. (A hash per partition
// spread them only on average: 8 partitions on 2 shards could be 6 and 2, and the shard with 6
// carried three times the other's load.) Partition folders do not name their shard, so a
// broker restarted with other shards (or another version of this) just opens them elsewhere.
// Clients that route by shard (ringlog bench, the datagram client) compute the same.
// tests/unit/core/shard_test.cc pins golden values.
ShardId shard_for(std::string_view topic, int32_t partition, int shard_count);

class ShardSet;

namespace detail {

// What crosses an SPSC queue between shards: a call to run there, or its answer coming back.
// The call itself lives in the caller's coroutine frame (see ShardSet::submit_to).
struct CallBase;

struct Envelope {
    CallBase* call;
    bool reply;
};

}  // namespace detail

// Contract: created by ShardSet before its thread starts; reactor() exists from the moment the
// thread runs until it ends. Everything here except id() is for code running on this shard.
class Shard {
public:
    Shard(ShardSet& set, ShardId id) : set_(set), id_(id) {}

    Shard(const Shard&) = delete;
    Shard& operator=(const Shard&) = delete;

    // The shard of the calling thread; asserts that there is one.
    static Shard& current() {
        RL_ASSERT(current_ != nullptr, "not on a shard thread");
        return *current_;
    }

    static Shard* current_or_null() { return current_; }

    ShardId id() const { return id_; }

    ShardSet& set() const { return set_; }

    io::Reactor& reactor() const {
        RL_ASSERT(reactor_ != nullptr);
        return *reactor_;
    }

    // Starts a background task on this shard; ShardSet::stop() waits for it to finish.
    void spawn(io::Task<void> task);

private:
    friend class ShardSet;

    static thread_local Shard* current_;

    ShardSet& set_;  // outlives the shard: it owns it
    const ShardId id_;
    io::Reactor* reactor_ = nullptr;  // owned by the shard's thread
    std::unique_ptr<io::Doorbell> doorbell_;
    // Envelopes a full queue refused, per target shard, in order; the serve loop retries them.
    std::vector<std::deque<detail::Envelope>> overflow_;
    // Work handed in from outside the shards (ShardSet::run_on): control plane, so a mutex.
    std::mutex inbox_mutex_;
    std::vector<std::function<io::Task<void>(Shard&)>> inbox_;
    std::atomic<bool> inbox_pending_{false};
};

}  // namespace ringlog::core
