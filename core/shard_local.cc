#include "core/shard_local.h"

#include <cstdio>

#include <absl/strings/str_cat.h>

#include "core/log_cleaner.h"
#include "core/shard_set.h"
#include "core/topic_store.h"
#include "io/base/absl_compat.h"
#include "io/base/status_macros.h"

namespace ringlog::core {

ShardLocal::~ShardLocal() {
    RL_ASSERT(partition_count() == 0, "shard %d destroyed with open partitions",
              int(shard_.id().value()));
}

Partition* ShardLocal::find(std::string_view topic, int32_t index) const {
    const auto it = partitions_.find(base::to_absl(topic));
    if (it == partitions_.end() || index < 0 || static_cast<size_t>(index) >= it->second.size()) {
        return nullptr;
    }
    Partition* partition = it->second[static_cast<size_t>(index)].get();
    return partition != nullptr && !partition->deleting() ? partition : nullptr;
}

size_t ShardLocal::partition_count() const {
    size_t count = 0;
    for (const auto& [name, partitions] : partitions_) {
        for (const auto& partition : partitions) {
            count += partition != nullptr ? 1 : 0;
        }
    }
    return count;
}

io::Task<absl::Status> ShardLocal::open_partition(const TopicInfo& topic, int32_t index) {
    RL_ASSERT(shard_for(topic.name, index, shard_.set().count()) == shard_.id());
    auto& slots = partitions_[topic.name];
    if (slots.size() <= static_cast<size_t>(index)) {
        slots.resize(static_cast<size_t>(index) + 1);
    }
    if (slots[static_cast<size_t>(index)] != nullptr) {
        co_return absl::OkStatus();  // already open: topic creation retried after a crash
    }
    const std::string dir = partition_dir(data_dir_, topic.name, index);
    auto log = co_await Log::open(fs_, dir, topic.config.log_config(defaults_), Clock::system(),
                                  tail_pool_, group_sync_.get());
    if (!log.ok()) {
        co_return absl::Status(log.status().code(),
                               absl::StrCat("open ", dir, ": ", log.status().message()));
    }
    // `slots` may have moved while Log::open suspended (another topic inserted).
    auto& partition = partitions_[topic.name][static_cast<size_t>(index)];
    partition = std::make_unique<Partition>(topic.name, index, *std::move(log),
                                            topic.config.max_message_bytes(defaults_),
                                            topic.config.timestamp_policy());
    watchers_.spawn(watch(partition->use()));
    co_return absl::OkStatus();
}

io::Task<void> ShardLocal::watch(Partition::Use partition) {
    while (!partition->deleting()) {
        co_await partition->log().watermark_moved().wait();
        data_arrived_.notify_all();
    }
}

io::Task<absl::Status> ShardLocal::close_topic(std::string topic, bool remove_data) {
    const auto it = partitions_.find(base::to_absl(topic));
    if (it == partitions_.end()) {
        co_return absl::OkStatus();
    }
    absl::Status result;
    // Take the partitions out first: nobody finds them while they close.
    std::vector<std::unique_ptr<Partition>> closing = std::move(it->second);
    partitions_.erase(it);
    for (auto& partition : closing) {
        if (partition == nullptr) {
            continue;
        }
        absl::Status status = co_await partition->close();
        const std::string dir = partition->log().dir();
        partition.reset();
        if (status.ok() && remove_data) {
            status = fs_.remove_all(dir);
        }
        if (!status.ok()) {
            std::fprintf(stderr, "ringlogd: close %s: %s\n", dir.c_str(),
                         std::string(status.message()).c_str());
            if (result.ok()) {
                result = status;
            }
        }
    }
    if (remove_data) {
        RL_CO_RETURN_IF_ERROR(co_await fs_.sync_dir(data_dir_));
    }
    co_return result;
}

void ShardLocal::start_retention(int64_t interval_ms) {
    watchers_.spawn(run_retention(interval_ms));
}

io::Task<void> ShardLocal::run_retention(int64_t interval_ms) {
    while (!closed_) {
        if (co_await closing_.wait_for(std::chrono::milliseconds(interval_ms))) {
            break;
        }
        for (const auto& [topic, index] : partition_names()) {
            Partition* found = find(topic, index);
            if (found == nullptr) {
                continue;
            }
            Partition::Use partition = found->use();
            const absl::Status status = co_await partition->log().enforce_retention();
            if (!status.ok()) {
                std::fprintf(stderr, "ringlogd: retention in %s: %s\n",
                             partition->log().dir().c_str(), std::string(status.message()).c_str());
            }
        }
    }
}

std::vector<std::pair<std::string, int32_t>> ShardLocal::partition_names() const {
    std::vector<std::pair<std::string, int32_t>> names;
    for (const auto& [name, slots] : partitions_) {
        for (const auto& partition : slots) {
            if (partition != nullptr) {
                names.emplace_back(name, partition->index());
            }
        }
    }
    return names;
}

void ShardLocal::start_cleaner(int64_t interval_ms, uint64_t io_bytes_per_sec) {
    watchers_.spawn(run_cleaner(interval_ms, io_bytes_per_sec));
}

io::Task<void> ShardLocal::run_cleaner(int64_t interval_ms, uint64_t io_bytes_per_sec) {
    // One budget for the shard: partitions are cleaned one after another, never together.
    io::IoBudget budget(io_bytes_per_sec);
    while (!closed_) {
        if (co_await closing_.wait_for(std::chrono::milliseconds(interval_ms))) {
            break;
        }
        for (const auto& [topic, index] : partition_names()) {
            Partition* found = find(topic, index);
            if (closed_ || found == nullptr
                || !needs_cleaning(found->log(), found->log().clock().now_ms())) {
                continue;
            }
            Partition::Use partition = found->use();
            CleanOptions options;
            options.budget = &budget;
            Partition* const target = found;
            const bool* const closed = &closed_;
            options.stop = [target, closed] { return *closed || target->deleting(); };
            const absl::StatusOr<CleanResult> result =
                co_await clean_log(partition->log(), std::move(options));
            if (!result.ok()) {
                std::fprintf(stderr, "ringlogd: cleaning %s: %s\n", partition->log().dir().c_str(),
                             std::string(result.status().message()).c_str());
            } else if (result->segments_rewritten > 0) {
                std::fprintf(stderr,
                             "ringlogd: cleaned %s: %lu segments rewritten, %lu records and %lu "
                             "tombstones removed, %lu bytes read, %lu written\n",
                             partition->log().dir().c_str(),
                             static_cast<unsigned long>(result->segments_rewritten),
                             static_cast<unsigned long>(result->records_removed),
                             static_cast<unsigned long>(result->tombstones_removed),
                             static_cast<unsigned long>(result->bytes_read),
                             static_cast<unsigned long>(result->bytes_written));
            }
        }
    }
}

io::Task<absl::Status> ShardLocal::close_all() {
    closed_ = true;
    closing_.notify_all();
    absl::Status result;
    std::vector<std::string> topics;
    for (const auto& [name, partitions] : partitions_) {
        topics.push_back(name);
    }
    for (std::string& topic : topics) {
        absl::Status status = co_await close_topic(std::move(topic), false);
        if (result.ok()) {
            result = status;
        }
    }
    co_await watchers_.wait_idle();
    co_return result;
}

}  // namespace ringlog::core
