// Partition: one topic-partition owned by this shard, its log, and what requests need to know
// about its topic (size limit, timestamp policy). Handlers hold a Partition::Use while they
// await its log, so deleting a topic waits for the requests in flight instead of pulling the
// log out from under them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include <absl/status/status.h>

#include "core/log.h"
#include "core/metrics/shard_metrics.h"
#include "core/topic_config.h"
#include "io/base/assert.h"
#include "io/event.h"
#include "io/task.h"

namespace ringlog::core {

// Contract: created, used and destroyed on its owner shard. close() waits for every Use to go,
// then closes the log; after it begins, deleting() is true and new requests must not start.
class Partition {
public:
    Partition(std::string topic, int32_t index, std::unique_ptr<Log> log, int32_t max_message_bytes,
              TimestampPolicy timestamp_policy)
        : topic_(std::move(topic)),
          index_(index),
          log_(std::move(log)),
          max_message_bytes_(max_message_bytes),
          timestamp_policy_(timestamp_policy) {}

    ~Partition() { RL_ASSERT(users_ == 0, "partition destroyed while %d requests use it", users_); }

    Partition(const Partition&) = delete;
    Partition& operator=(const Partition&) = delete;

    class Use {
    public:
        explicit Use(Partition& partition) : partition_(&partition) { ++partition.users_; }

        Use(Use&& other) noexcept : partition_(std::exchange(other.partition_, nullptr)) {}

        Use(const Use&) = delete;
        Use& operator=(const Use&) = delete;
        Use& operator=(Use&&) = delete;

        ~Use() {
            if (partition_ != nullptr && --partition_->users_ == 0) {
                partition_->idle_.notify_all();
            }
        }

        Partition* operator->() const { return partition_; }

        Partition& operator*() const { return *partition_; }

    private:
        Partition* partition_;
    };

    Use use() {
        RL_ASSERT(!deleting_);
        return Use(*this);
    }

    const std::string& topic() const { return topic_; }

    int32_t index() const { return index_; }

    Log& log() const { return *log_; }

    int32_t max_message_bytes() const { return max_message_bytes_; }

    TimestampPolicy timestamp_policy() const { return timestamp_policy_; }

    bool deleting() const { return deleting_; }

    metrics::PartitionCounters& counters() { return counters_; }

    const metrics::PartitionCounters& counters() const { return counters_; }

    // Stops new use, waits for the current users, then syncs and closes the log.
    [[nodiscard]] io::Task<absl::Status> close() {
        deleting_ = true;
        log_->watermark_moved().notify_all();  // long polls re-check and see deleting()
        while (users_ > 0) {
            co_await idle_.wait();
        }
        co_return co_await log_->close();
    }

private:
    std::string topic_;
    int32_t index_;
    std::unique_ptr<Log> log_;
    int32_t max_message_bytes_;
    TimestampPolicy timestamp_policy_;
    metrics::PartitionCounters counters_;
    int users_ = 0;
    bool deleting_ = false;
    io::Notify idle_;
};

}  // namespace ringlog::core
