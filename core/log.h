// A partition's log: a folder of segments, appended to at the end and read from anywhere.
//
// Contract (one Log is owned by one shard and used only on that shard's reactor):
// - append() validates each RecordBatch v2 (header, length, CRC-32C), assigns offsets by
//   rewriting baseOffset in the log's own copy, and completes according to the durability
//   policy: under `always` only once the bytes are on stable storage (appends that arrive while
//   a flush is in flight share the next write and sync: group commit); under `interval` and
//   `none` at once. A rejected append changes nothing.
// - read() returns whole batches as views on the log's buffers, never copies: recent data from
//   the in-memory tail, older data from O_DIRECT reads. Reads see offsets below the high
//   watermark: under `always` that is what is durable, so a crash never takes back data a
//   consumer has seen; under the other policies it is everything appended.
// - open() recovers: it scans the last segment, checks every batch's CRC-32C, cuts off a torn
//   tail and rebuilds missing or damaged indexes. close() syncs everything.
// - Idempotent producers (KIP-98): the log owns the partition's ProducerStateTable, because
//   everything that changes it happens here: the store (judged right before it, with nothing
//   able to run in between), rollbacks of failed flushes, retention, and recovery (a snapshot
//   written at every roll and at close, plus a replay of the batch headers after it).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include "core/clock.h"
#include "core/group_sync.h"
#include "core/log_config.h"
#include "core/log_tail.h"
#include "core/metrics/latency_buckets.h"
#include "core/offset.h"
#include "core/producer_state.h"
#include "core/segment.h"
#include "io/async_mutex.h"
#include "io/buffer.h"
#include "io/event.h"
#include "io/file.h"
#include "io/task.h"
#include "io/task_group.h"

namespace ringlog::core {

struct AppendResult {
    Offset base_offset;
    Offset last_offset;
    // accept: stored at [base, last]. duplicate: an idempotent producer's retry of the batch
    // already stored at [base, last]; nothing was stored. Anything else: refused, nothing
    // stored, offsets -1 (produce answers the Kafka error for it).
    SequenceVerdict sequence = SequenceVerdict::accept;
    // The log's rollback count when it was stored: wait_durable() fails if a failed flush
    // dropped it meanwhile.
    uint64_t generation = 0;
};

// How long append() waits. Kafka's acks=1 is acknowledged once the batch is in the log's
// memory; acks=all (and every append under the `always` policy by default) once it is durable.
enum class AppendWait {
    policy,     // as the log's durability policy says
    in_memory,  // return as soon as the batch is stored in the tail, whatever the policy
};

struct LogReadResult {
    // The concatenation of these views is a run of whole record batches.
    std::vector<io::BufferView> views;
    uint64_t bytes = 0;
    // The offset after the last batch returned: where the next read should start.
    Offset next_offset;
    Offset high_watermark;
    Offset log_start_offset;
};

struct LogStats {
    uint64_t appends = 0;
    uint64_t flushes = 0;
    uint64_t syncs = 0;
    uint64_t overlapped_syncs = 0;  // syncs that ran beside the next write
    uint64_t rollbacks = 0;  // failed flushes under `always` that dropped unacknowledged appends
    uint64_t prewrite_bytes = 0;
    uint64_t recycled_segments = 0;          // new segments made from spare files (already written)
    uint64_t recovered_truncated_bytes = 0;  // torn tail bytes cut off by open()
    metrics::LatencyBuckets sync_latency;    // each fdatasync or RWF_DSYNC write
    // Appends that had to wait before they could be stored (the disk behind by dirty_bytes_max,
    // or a roll switching segments), and how long: the broker's own share of a produce stall.
    metrics::LatencyBuckets append_stall;
    uint64_t duplicates = 0;                 // idempotent retries answered without storing
    uint64_t producer_batches_replayed = 0;  // batch headers open() replayed into the table
};

class Log {
public:
    // `pool` (optional) supplies the tail chunks; `group_sync` (optional: the log then syncs
    // its own file) groups the acknowledging syncs with the shard's other logs'. Both must
    // outlive the log.
    [[nodiscard]] static io::Task<absl::StatusOr<std::unique_ptr<Log>>> open(
        io::FileSystem& fs, std::string dir, LogConfig config, const Clock& clock = Clock::system(),
        io::BufferPool* pool = nullptr, GroupSync* group_sync = nullptr);

    ~Log();

    Log(const Log&) = delete;
    Log& operator=(const Log&) = delete;

    // `batches` holds one or more RecordBatch v2; they are validated first and stored with
    // consecutive offsets. Batches with a producer id are checked against the producer table
    // at the moment they would be stored (after any wait for a roll or for the disk), in
    // storage order: a duplicate completes like the original would (under `always`, once the
    // original is durable) and stores nothing.
    [[nodiscard]] io::Task<absl::StatusOr<AppendResult>> append(
        std::span<const std::byte> batches, AppendWait wait = AppendWait::policy);

    // The second half of an append made with AppendWait::in_memory: completes once `stored`
    // (accepted or a duplicate) is durable, at once unless the policy is `always`. Fails, as
    // append() would have, if a failed flush dropped it or the log closed first. Produce
    // stores a request's batches, lets the connection read the next request, then waits here.
    [[nodiscard]] io::Task<absl::Status> wait_durable(AppendResult stored);

    // Whole batches from the one holding `from`, up to bytes_max (but always at least one
    // batch, as Fetch v3+ requires). kOutOfRange outside [log start, high watermark].
    [[nodiscard]] io::Task<absl::StatusOr<LogReadResult>> read(Offset from, size_t bytes_max);

    // The first offset whose batch has a timestamp >= target (for uncompressed batches, the
    // first such record); nullopt if there is none below the high watermark.
    [[nodiscard]] io::Task<absl::StatusOr<std::optional<Offset>>> offset_for_timestamp(
        int64_t target_ms);

    // The largest timestamp below the high watermark and the base offset of the batch holding
    // it (ListOffsets' MAX_TIMESTAMP, KIP-734); nullopt for an empty log.
    struct TimestampAndOffset {
        int64_t timestamp_ms;
        Offset offset;
    };

    std::optional<TimestampAndOffset> max_timestamp() const;

    // Makes everything appended so far durable, whatever the policy.
    [[nodiscard]] io::Task<absl::Status> flush();

    // Deletes whole sealed segments beyond retention_bytes (total) or older than retention_ms
    // (by their largest timestamp). The active segment is never deleted. Does nothing unless
    // the cleanup policy deletes (config().retention_deletes).
    [[nodiscard]] io::Task<absl::Status> enforce_retention();

    // Waits until the zero-filling ahead of the appender has reached its target (benchmarks
    // use it to measure appends, not the preparation of the file).
    [[nodiscard]] io::Task<absl::Status> wait_prewritten();

    // Waits until the seals of the rolls so far are done (their indexes and snapshot written,
    // size retention applied): a roll returns once the new segment takes appends.
    [[nodiscard]] io::Task<void> wait_sealed();

    // Stops the background flusher, syncs, and closes every file. The log is unusable after.
    [[nodiscard]] io::Task<absl::Status> close();

    Offset log_start_offset() const { return segments_.front()->base_offset(); }

    Offset log_end_offset() const { return next_offset_; }

    Offset high_watermark() const {
        return config_.durability == Durability::always ? durable_offset_ : next_offset_;
    }

    size_t segment_count() const { return segments_.size(); }

    uint64_t size_bytes() const;

    const LogStats& stats() const { return stats_; }

    const ProducerStateTable& producers() const { return producers_; }

    // Notified whenever the high watermark may have moved (an append under `interval` or
    // `none`, a sync under `always`), and when the log closes: long-poll fetches wait on it.
    io::Notify& watermark_moved() { return watermark_moved_; }

    const LogConfig& config() const { return config_; }

    const std::string& dir() const { return dir_; }

    // The segments' base offsets, oldest first (for tests and tools).
    std::vector<Offset> segment_base_offsets() const;

    // Compaction (core/log_cleaner.h reads the sealed segments and writes cleaned copies).

    // Every segment but the active one, oldest first.
    std::vector<std::shared_ptr<Segment>> sealed_segments() const;

    io::FileSystem& fs() const { return fs_; }

    const Clock& clock() const { return clock_; }

    // Puts `cleaned`, a sealed copy of the sealed segment `old` with the same base offset and
    // offset range whose file (at old->cleaned_path()) is written and synced, in old's place:
    // old's indexes are removed, the new file is renamed over old's, the folder synced, the
    // segment list swapped, and the new indexes written. At every point a crash leaves the old
    // or the new file whole under the .log name (recovery rebuilds missing indexes and deletes
    // a leftover .log.cleaned). Reads that hold `old` finish on its file, unlinked but open.
    // kNotFound when `old` is no longer in the log (retention took it): the copy is deleted.
    [[nodiscard]] io::Task<absl::Status> replace_segment(std::shared_ptr<Segment> old,
                                                         std::shared_ptr<Segment> cleaned);

private:
    class Reader;

    Log(io::FileSystem& fs, std::string dir, LogConfig config, const Clock& clock,
        io::BufferPool* pool, GroupSync* group_sync);

    io::Task<absl::Status> recover();
    io::Task<absl::Status> recover_sealed(Segment& segment, Offset next_base);
    io::Task<absl::Status> recover_active(Segment& segment);
    // A new empty segment; `prewritten` is how much of its file was written before (a spare's
    // size; 0 for a fresh file).
    io::Task<absl::StatusOr<std::shared_ptr<Segment>>> create_segment(Offset base_offset,
                                                                      uint64_t& prewritten);
    bool keep_as_spare(std::shared_ptr<Segment>& victim);
    io::Task<absl::Status> remove_retained(bool by_time);
    io::Task<absl::Status> recover_producers(const std::vector<std::string>& names);
    io::Task<absl::Status> replay_producers(Offset from);

    // The producer table as of the log end, serialized: taken where no append can interleave,
    // written later. nullopt when no idempotent producer ever wrote to this log.
    struct ProducerSnapshotFile {
        Offset offset;
        std::vector<std::byte> bytes;
    };

    std::optional<ProducerSnapshotFile> take_producer_snapshot() const;
    io::Task<void> write_producer_snapshot(ProducerSnapshotFile snapshot);

    SequenceCheck check_sequences(std::span<const std::byte> batches) const;
    io::Task<absl::StatusOr<AppendResult>> answer_duplicate(SequenceCheck duplicate,
                                                            AppendWait wait);

    absl::Status validate(std::span<const std::byte> batches) const;
    [[nodiscard]] absl::Status store(std::span<const std::byte> batches, AppendResult& result);
    bool needs_roll(size_t incoming_bytes) const;
    io::Task<absl::Status> roll();
    // The part of a roll appends need not wait for: trims the old segment's file, writes its
    // indexes and the producer snapshot, applies size retention.
    io::Task<void> seal(std::shared_ptr<Segment> old, std::optional<ProducerSnapshotFile> snapshot);

    // The background flusher: writes and syncs the tail as the policy asks, zero-fills ahead
    // of the appender when idle.
    io::Task<void> run_flusher();
    io::Task<absl::Status> flush_locked(bool sync);
    // After a write up to `end`: drops the tail's memory beyond tail_bytes_max of written data
    // (beyond none of it while tail_memory_short()).
    void release_written_tail(uint64_t end);
    bool tail_memory_short() const;
    io::Task<absl::Status> flush_once_locked(bool sync);
    io::Task<void> sync_active(absl::Status& status);
    // The active file's sync that acknowledges appends: through group_sync_ when there is one.
    io::Task<absl::Status> datasync_active();
    io::Task<void> write_dirty(uint64_t from, absl::Status& status);
    void return_flush_error();
    io::Task<absl::Status> write_tail(uint64_t from, bool dsync);
    io::Task<void> prewrite_step();
    // One step of the pipelined flush: the sync of what is written beside the write of what
    // is not.
    io::Task<absl::Status> pipelined_step_locked(bool sync);
    // SyncMethod::adaptive: whether a flush to `end` is small enough for one dsync write.
    bool adaptive_dsync_fits(uint64_t end) const;
    bool prewrite_wanted() const;
    uint64_t preallocation_bytes(uint64_t from) const;
    void roll_back_unflushed(const absl::Status& cause);

    uint64_t dirty_bytes() const { return tail_->end() - written_end_; }

    std::shared_ptr<Segment> segment_for(Offset offset) const;
    std::shared_ptr<Segment> segment_after(const Segment& segment) const;

    Segment& active() const { return *segments_.back(); }

    io::FileSystem& fs_;
    std::string dir_;
    LogConfig config_;
    const Clock& clock_;
    io::BufferPool* pool_;
    GroupSync* group_sync_;

    std::vector<std::shared_ptr<Segment>> segments_;  // oldest first; back() is active
    std::unique_ptr<LogTail> tail_;                   // the active segment's memory
    // The last tail_bytes_max of the segment sealed by the last roll, kept for the readers a
    // little behind the end (a consumer mid-fetch at the roll), so they are not sent to the
    // disk; dropped once the new tail holds that much. Identity through the weak pointer (a
    // cleaned copy of the segment is another segment) without counting as a reader of it.
    std::unique_ptr<LogTail> previous_tail_;
    std::weak_ptr<Segment> previous_segment_;

    Offset next_offset_;           // log end offset
    Offset durable_offset_;        // everything below is on stable storage
    Offset written_offset_;        // everything below is written (durable or not)
    uint64_t written_end_ = 0;     // active segment bytes [0, written_end_) are written
    uint64_t durable_end_ = 0;     // ... and [0, durable_end_) are synced
    uint64_t prewritten_end_ = 0;  // ... and [0, prewritten_end_) were written at least once

    bool sync_requested_ = false;
    bool write_requested_ = false;
    bool rolling_ = false;
    bool closing_ = false;
    bool closed_ = false;
    uint64_t rollback_generation_ = 0;
    absl::Status last_flush_error_;

    io::AsyncMutex flush_mutex_;  // one writer of the active segment file at a time
    // One change at a time to the sealed segments' files and names: a seal, retention, a
    // compacted segment's swap. FIFO, so seals happen in roll order.
    io::AsyncMutex maintenance_mutex_;
    io::Notify work_;     // wakes the flusher
    io::Notify flushed_;  // a flush or prewrite step finished (or failed)
    io::Notify roll_done_;
    io::Notify watermark_moved_;
    io::TaskGroup background_;
    io::BufferRef zeros_;

    // Files of segments retention removed, renamed to <base>.log.spare and kept open to become
    // the next segments: their blocks are written already, and a durable append into written
    // blocks costs about half of one into fresh ones (LIMITS.md D9, D10), as PostgreSQL
    // recycles its WAL segments. Safe for recovery because the stale batches in one all have
    // offsets below the new segment's base, where recovery's scan of the active segment stops.
    struct SpareFile {
        std::string path;
        std::unique_ptr<io::File> file;
        uint64_t bytes;
    };

    static constexpr size_t spares_max = 2;
    std::vector<SpareFile> spares_;

    ProducerStateTable producers_;
    bool producer_snapshot_written_ = false;  // some snapshot exists: keep them current

    LogStats stats_;
};

}  // namespace ringlog::core
