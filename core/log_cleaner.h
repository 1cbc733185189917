// Log compaction (cleanup.policy=compact): rewrites a log's sealed segments keeping only the
// newest record of each key, as Kafka's LogCleaner does. It never touches the active segment
// and never changes an offset: a kept record keeps its batch's baseOffset, lastOffsetDelta,
// timestamps, producer id, epoch and base sequence, and its own offset delta, so the only
// trace of cleaning is gaps between offsets, which every consumer expects of a compact topic.
//
// One pass (clean_log):
// 1. Map: read the log from its start to the high watermark, active segment included, and
//    note the offset of the newest record of every key (and the last batch of each producer).
// 2. Copy, oldest segment first: for each sealed segment, write a .log.cleaned copy in which
//    each batch keeps the records that are the newest for their key, minus tombstones (null
//    values) whose batch's max timestamp is more than delete.retention.ms ago. A batch whose
//    records all stay is copied byte for byte; one that loses some is rebuilt with the same
//    header, the kept records' bytes as they were, recompressed with its own codec and a new
//    CRC. A batch left empty is dropped, unless it is the last batch of its producer id:
//    then its header stays, with no records and no codec, so the producer's last sequence
//    survives (Kafka keeps it for idempotence too). Then Log::replace_segment swaps it in.
//    Oldest first matters: a tombstone goes only after every older value of its key has gone
//    from the older segments, so a crash between two segments cannot bring a deleted key back.
// 3. A segment in which nothing would change is left alone (its copy is deleted).
//
// The map holds every distinct key of the log in memory (key bytes plus ~40 bytes each); a
// bounded map that cleans in several passes, as Kafka's SkimpyOffsetMap does, is left for later.
// Records without a key are kept (Kafka rejects them on compact topics at produce time).
// Control batches are kept as they are. Not thread-safe: runs on the log's shard, one clean of
// a log at a time (the shard's cleaner task), alongside appends, reads, rolls and retention.
#pragma once

#include <cstdint>
#include <functional>

#include <absl/status/statusor.h>

#include "core/log.h"
#include "io/io_budget.h"
#include "io/task.h"

namespace ringlog::core {

struct CleanOptions {
    // Reads and writes are paid for here (nullptr: unthrottled).
    io::IoBudget* budget = nullptr;
    // Checked between batches: true stops the clean early (the log is closing). What was
    // swapped in so far stays; the segment being copied is abandoned.
    std::function<bool()> stop;
};

struct CleanResult {
    uint64_t segments_rewritten = 0;
    uint64_t records_removed = 0;
    uint64_t tombstones_removed = 0;
    uint64_t bytes_read = 0;
    uint64_t bytes_written = 0;
    bool stopped = false;
};

// Whether `log` (a compact one) is worth cleaning now: its dirty ratio has reached
// min.cleanable.dirty.ratio, or a tombstone it kept has expired since.
bool needs_cleaning(const Log& log, int64_t now_ms);

// Sealed bytes the cleaner has not been over, as a share of all sealed bytes (0 when there
// are none).
double dirty_ratio(const Log& log);

// One pass over `log`, as described above. Errors: kDataLoss for a batch whose CRC does not
// match (nothing more is cleaned), I/O errors from the file system. A failed pass leaves the
// log as it was or with some segments cleaned: always whole and readable.
[[nodiscard]] io::Task<absl::StatusOr<CleanResult>> clean_log(Log& log, CleanOptions options);

}  // namespace ringlog::core
