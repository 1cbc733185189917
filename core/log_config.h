// Per-log settings: how big segments grow, how long data is kept, and when appends count as
// durable. Topic configs (segment.bytes, retention.ms, ...) map onto these one to one.
#pragma once

#include <cstddef>
#include <cstdint>

#include "io/base/limits.h"

namespace ringlog::core {

enum class Durability {
    // An append completes only when its bytes are on stable storage. Appends that arrive while
    // a flush is in flight share the next write and sync (group commit).
    always,
    // Appends complete at once; the log writes and syncs every flush_interval_ms.
    interval,
    // Appends complete at once; the log writes when a chunk fills or on the interval timer and
    // syncs only when a segment is sealed or the log is closed.
    none,
};

enum class SyncMethod {
    write_then_fdatasync,  // write(s), then one fdatasync, overlapped with the next write(s)
    dsync_write,           // a single RWF_DSYNC write when the flush fits in one write
    // A flush that finds nothing written awaiting its sync, and little to write
    // (limits::adaptive_dsync_bytes_max), is one RWF_DSYNC write while its shard's GroupSync
    // has a round free: a lone append is durable after one device operation instead of two.
    // Anything bigger, or a flush behind a sync in flight, is written and then synced,
    // overlapped with the next writes, so a busy log keeps its pipeline and many partitions
    // keep sharing syncfs rounds.
    adaptive,
};

struct LogConfig {
    int64_t segment_bytes = limits::segment_bytes_default;
    int64_t segment_ms = 7LL * 24 * 3600 * 1000;    // Kafka's default segment.ms: one week
    int64_t retention_bytes = -1;                   // -1: no size limit
    int64_t retention_ms = 7LL * 24 * 3600 * 1000;  // -1: keep forever
    int64_t index_interval_bytes = limits::index_interval_bytes_default;

    // cleanup.policy: `delete` removes whole old segments by retention_ms and retention_bytes,
    // `compact` keeps the newest record of every key (core/log_cleaner.h); compact,delete
    // does both.
    bool retention_deletes = true;
    bool compact = false;
    // delete.retention.ms: a tombstone (a null value) survives compaction until this long
    // after its batch's max timestamp, so consumers have that long to see the delete.
    int64_t delete_retention_ms = 24LL * 3600 * 1000;  // Kafka's default: one day
    // min.cleanable.dirty.ratio: clean once the sealed bytes not yet cleaned are at least this
    // share of all sealed bytes.
    double min_cleanable_dirty_ratio = 0.5;

    Durability durability = Durability::always;
    int64_t flush_interval_ms = 100;
    SyncMethod sync_method = SyncMethod::write_then_fdatasync;

    // In-memory tail kept for reads after it has been written (at least the unwritten part
    // is always kept).
    size_t tail_bytes_max = 8 * 1024 * 1024;
    // Appends wait (back-pressure) while more than this is appended but not yet written.
    size_t dirty_bytes_max = 16 * 1024 * 1024;

    // Zero-fill this far ahead of the appender while the log is idle (0 disables). See
    // LIMITS.md D9: durable appends into never-written blocks cost about twice as much. A log
    // whose folder is in memory (FileSystem::in_memory: tmpfs) never zero-fills.
    int64_t prewrite_ahead_bytes = 64LL * 1024 * 1024;
};

}  // namespace ringlog::core
