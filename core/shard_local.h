// ShardLocal: what one shard owns of the broker: its partitions (and their logs), its copy of
// the catalog, and its file system on its own reactor. Every member is touched only on that
// shard; other shards reach it through ShardSet::submit_to.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <absl/container/flat_hash_map.h>
#include <absl/status/status.h>

#include "core/catalog.h"
#include "core/group_sync.h"
#include "core/metrics/shard_metrics.h"
#include "core/partition.h"
#include "core/shard.h"
#include "core/topic_config.h"
#include "io/event.h"
#include "io/task.h"
#include "io/task_group.h"
#include "io/uring_file_system.h"

namespace ringlog::core {

// Contract: created and destroyed on its shard's thread; close_all() before destruction.
class ShardLocal {
public:
    // `tail_pool` (may be null) supplies the logs' tail chunks; it outlives this object and
    // every buffer reference, wherever it went. With `group_sync` the shard's logs share their
    // syncs (core/group_sync.h).
    ShardLocal(Shard& shard, std::string data_dir, TopicDefaults defaults,
               io::BufferPool* tail_pool, bool group_sync)
        : shard_(shard),
          fs_(shard.reactor()),
          data_dir_(std::move(data_dir)),
          defaults_(std::move(defaults)),
          tail_pool_(tail_pool),
          group_sync_(group_sync ? std::make_unique<GroupSync>() : nullptr),
          catalog_(std::make_shared<const Catalog>()) {}

    ~ShardLocal();

    ShardLocal(const ShardLocal&) = delete;
    ShardLocal& operator=(const ShardLocal&) = delete;

    Shard& shard() const { return shard_; }

    io::FileSystem& fs() { return fs_; }

    const std::string& data_dir() const { return data_dir_; }

    const TopicDefaults& defaults() const { return defaults_; }

    const Catalog& catalog() const { return *catalog_; }

    const CatalogRef& catalog_ref() const { return catalog_; }

    void set_catalog(CatalogRef catalog) { catalog_ = std::move(catalog); }

    // The partition if this shard owns it and it is not being deleted; else nullptr.
    Partition* find(std::string_view topic, int32_t index) const;

    // Opens (creating or recovering) partition `index` of `topic`, owned by this shard.
    [[nodiscard]] io::Task<absl::Status> open_partition(const TopicInfo& topic, int32_t index);

    // Closes every partition of `topic` this shard owns; with `remove_data`, deletes their
    // folders too.
    [[nodiscard]] io::Task<absl::Status> close_topic(std::string topic, bool remove_data);

    [[nodiscard]] io::Task<absl::Status> close_all();

    // Notified when the high watermark of any partition of this shard may have moved, so a
    // long-poll fetch waits on one condition however many partitions it reads.
    io::Notify& data_arrived() { return data_arrived_; }

    size_t partition_count() const;

    // Every open partition, in no particular order (for /metrics).
    template <typename Fn>
    void for_each_partition(Fn&& fn) const {
        for (const auto& [name, slots] : partitions_) {
            for (const auto& partition : slots) {
                if (partition != nullptr && !partition->deleting()) {
                    fn(*partition);
                }
            }
        }
    }

    metrics::ShardMetrics& metrics() { return metrics_; }

    const metrics::ShardMetrics& metrics() const { return metrics_; }

    const io::BufferPool* tail_pool() const { return tail_pool_; }

    // Null when each log syncs its own file.
    const GroupSync* group_sync() const { return group_sync_.get(); }

    // Enforces every partition's retention each `interval_ms` until close_all().
    void start_retention(int64_t interval_ms);

    // Each `interval_ms`, cleans the compact partitions that need it (core/log_cleaner.h),
    // one at a time, spending at most `io_bytes_per_sec` (0: unlimited), until close_all().
    void start_cleaner(int64_t interval_ms, uint64_t io_bytes_per_sec);

private:
    io::Task<void> watch(Partition::Use partition);
    io::Task<void> run_retention(int64_t interval_ms);
    io::Task<void> run_cleaner(int64_t interval_ms, uint64_t io_bytes_per_sec);
    // Open partitions by (topic, index): a partition may go while the previous one is worked on.
    std::vector<std::pair<std::string, int32_t>> partition_names() const;

    Shard& shard_;
    io::UringFileSystem fs_;
    std::string data_dir_;
    TopicDefaults defaults_;
    io::BufferPool* tail_pool_;
    std::unique_ptr<GroupSync> group_sync_;  // declared before the logs it outlives
    CatalogRef catalog_;
    // By topic name; index i holds partition i when this shard owns it, else nullptr.
    absl::flat_hash_map<std::string, std::vector<std::unique_ptr<Partition>>> partitions_;
    metrics::ShardMetrics metrics_;
    io::Notify data_arrived_;
    io::Notify closing_;
    bool closed_ = false;
    io::TaskGroup watchers_;
};

}  // namespace ringlog::core
