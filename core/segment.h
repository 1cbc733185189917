// One segment of a partition log: a file of record batches starting at base_offset, and its
// sparse offset and time indexes. The active segment grows through the log's appender; a sealed
// segment is immutable and has its indexes on disk.
//
// Owned by its Log and shared (std::shared_ptr, off the per-record path) with reads in flight,
// so that retention can delete a segment while a read of it finishes: the files are unlinked at
// once and the descriptor closes with the last reference.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include "core/offset.h"
#include "core/segment_index.h"
#include "io/file.h"
#include "io/task.h"

namespace ringlog::core {

struct BatchInfo {
    Offset base_offset;
    Offset last_offset;
    int64_t max_timestamp;
    uint64_t size_bytes;
};

class Segment {
public:
    Segment(std::string dir, Offset base_offset, std::unique_ptr<io::File> file)
        : dir_(std::move(dir)),
          base_offset_(base_offset),
          next_offset_(base_offset),
          file_(std::move(file)) {}

    Offset base_offset() const { return base_offset_; }

    // One past the last offset stored here (base_offset() while empty).
    Offset next_offset() const { return next_offset_; }

    uint64_t size_bytes() const { return size_bytes_; }

    // The largest timestamp of any batch, -1 while there is none.
    int64_t max_timestamp() const { return max_timestamp_; }

    // The base offset of the batch that holds max_timestamp().
    Offset offset_of_max_timestamp() const { return offset_of_max_timestamp_; }

    bool sealed() const { return sealed_; }

    io::File& file() { return *file_; }

    // Hands the file over (to become a spare); the segment is unusable after.
    std::unique_ptr<io::File> release_file() { return std::move(file_); }

    const SegmentIndex& offset_index() const { return offset_index_; }

    const SegmentIndex& time_index() const { return time_index_; }

    // What the log cleaner knows of a sealed segment (in memory only: after a restart every
    // segment counts as dirty again, and the first clean finds little to do).
    struct CleanerMark {
        bool cleaned = false;  // the cleaner has been over it since it was sealed or recovered
        // The earliest time a tombstone it kept may go (INT64_MAX: it kept none), so a log
        // is cleaned again for its tombstones even when no new data makes it dirty.
        int64_t tombstones_expire_ms = INT64_MAX;
    };

    const CleanerMark& cleaner_mark() const { return cleaner_mark_; }

    void set_cleaner_mark(CleanerMark mark) { cleaner_mark_ = mark; }

    // Wall-clock time of the first append (or of recovery), for segment.ms rolls.
    int64_t created_ms() const { return created_ms_; }

    void set_created_ms(int64_t ms) { created_ms_ = ms; }

    // Records a batch stored at `position` (by an append or a scan): offsets, size, the largest
    // timestamp, and an index entry every index_interval_bytes.
    void note_batch(uint64_t position, const BatchInfo& batch, int64_t index_interval_bytes);

    // Where to start scanning for the batch that holds `target`.
    uint64_t position_hint(Offset target) const;

    // Where to start scanning for the first batch whose max timestamp is >= target: every
    // batch before it is older than target.
    uint64_t position_hint_for_timestamp(int64_t target) const;

    // Seals the segment in memory: no more appends; next_offset is fixed.
    void seal(Offset next_offset);

    // A sealed segment's metadata, from its index files if they are intact. Returns false
    // (and leaves the segment empty) if they are missing or damaged: the caller rebuilds them.
    [[nodiscard]] io::Task<absl::StatusOr<bool>> load_indexes(io::FileSystem& fs,
                                                              Offset next_offset);

    // Writes both index files and syncs them.
    [[nodiscard]] io::Task<absl::Status> write_indexes(io::FileSystem& fs);

    // Forgets metadata before a rebuild by scanning.
    void reset();

    // Rolls metadata back to a shorter length (the appender's rollback after a failed flush).
    void truncate_to(uint64_t size_bytes, Offset next_offset);

    std::string path() const;

    std::string offset_index_path() const;

    std::string time_index_path() const;

    // Where the log cleaner writes this segment's new copy.
    std::string cleaned_path() const;

private:
    std::string dir_;
    Offset base_offset_;
    Offset next_offset_;
    std::unique_ptr<io::File> file_;
    uint64_t size_bytes_ = 0;
    int64_t max_timestamp_ = -1;
    Offset offset_of_max_timestamp_;
    int64_t created_ms_ = 0;
    bool sealed_ = false;
    SegmentIndex offset_index_;
    SegmentIndex time_index_;
    int64_t bytes_since_index_entry_ = 0;
    CleanerMark cleaner_mark_;
};

}  // namespace ringlog::core
