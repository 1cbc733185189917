#include "core/segment.h"

#include <absl/strings/str_cat.h>

#include "core/segment_names.h"
#include "io/base/assert.h"
#include "io/base/status_macros.h"

namespace ringlog::core {

void Segment::note_batch(uint64_t position, const BatchInfo& batch, int64_t index_interval_bytes) {
    RL_ASSERT(!sealed_);
    RL_ASSERT(batch.base_offset >= next_offset_, "batch at %d before next offset %d",
              batch.base_offset.value(), next_offset_.value());
    RL_ASSERT(position == size_bytes_, "batch at %d, segment ends at %d", position, size_bytes_);
    if (offset_index_.empty() || bytes_since_index_entry_ >= index_interval_bytes) {
        offset_index_.append(batch.base_offset.value(), static_cast<int64_t>(position));
        // The time index gets an entry at the same points, when the largest timestamp grew:
        // (largest timestamp up to and including this batch, this batch's base offset).
        const int64_t running_max = std::max(max_timestamp_, batch.max_timestamp);
        if (running_max >= 0 && (time_index_.empty() || running_max > time_index_.last()->key)) {
            time_index_.append(running_max, batch.base_offset.value());
        }
        bytes_since_index_entry_ = 0;
    }
    bytes_since_index_entry_ += static_cast<int64_t>(batch.size_bytes);
    if (batch.max_timestamp > max_timestamp_) {
        max_timestamp_ = batch.max_timestamp;
        offset_of_max_timestamp_ = batch.base_offset;
    }
    next_offset_ = batch.last_offset + 1;
    size_bytes_ = position + batch.size_bytes;
}

uint64_t Segment::position_hint(Offset target) const {
    const auto entry = offset_index_.floor(target.value());
    return entry ? static_cast<uint64_t>(entry->value) : 0;
}

uint64_t Segment::position_hint_for_timestamp(int64_t target) const {
    const auto entry = time_index_.floor(target - 1);
    if (!entry) {
        return 0;
    }
    return position_hint(Offset(entry->value));
}

void Segment::seal(Offset next_offset) {
    RL_ASSERT(next_offset >= next_offset_);
    // The largest timestamp always gets an entry, so a sealed segment's max timestamp is the
    // last key of its time index.
    if (max_timestamp_ >= 0 && (time_index_.empty() || max_timestamp_ > time_index_.last()->key)) {
        time_index_.append(max_timestamp_, offset_of_max_timestamp_.value());
    }
    next_offset_ = next_offset;
    sealed_ = true;
}

void Segment::reset() {
    next_offset_ = base_offset_;
    size_bytes_ = 0;
    max_timestamp_ = -1;
    offset_index_.clear();
    time_index_.clear();
    bytes_since_index_entry_ = 0;
    sealed_ = false;
}

void Segment::truncate_to(uint64_t size_bytes, Offset next_offset) {
    RL_ASSERT(!sealed_ && size_bytes <= size_bytes_ && next_offset <= next_offset_);
    // Index entries past the new end point at bytes that no longer exist. The rollback only
    // removes unacknowledged appends, so dropping the whole index and letting the next read
    // scan from the start of the segment would be correct too, but slow for big segments.
    SegmentIndex offsets;
    for (const auto& entry : offset_index_.entries()) {
        if (static_cast<uint64_t>(entry.value) < size_bytes) {
            offsets.append(entry.key, entry.value);
        }
    }
    SegmentIndex times;
    for (const auto& entry : time_index_.entries()) {
        if (entry.value < next_offset.value()) {
            times.append(entry.key, entry.value);
        }
    }
    offset_index_ = std::move(offsets);
    time_index_ = std::move(times);
    max_timestamp_ = time_index_.empty() ? -1 : time_index_.last()->key;
    offset_of_max_timestamp_ =
        time_index_.empty() ? base_offset_ : Offset(time_index_.last()->value);
    size_bytes_ = size_bytes;
    next_offset_ = next_offset;
    bytes_since_index_entry_ =
        offset_index_.empty() ? 0 : static_cast<int64_t>(size_bytes - offset_index_.last()->value);
}

std::string Segment::path() const {
    return segment_path(dir_, base_offset_, SegmentFileKind::log);
}

std::string Segment::offset_index_path() const {
    return segment_path(dir_, base_offset_, SegmentFileKind::offset_index);
}

std::string Segment::time_index_path() const {
    return segment_path(dir_, base_offset_, SegmentFileKind::time_index);
}

std::string Segment::cleaned_path() const {
    return segment_path(dir_, base_offset_, SegmentFileKind::cleaned);
}

io::Task<absl::StatusOr<bool>> Segment::load_indexes(io::FileSystem& fs, Offset next_offset) {
    reset();
    RL_CO_ASSIGN_OR_RETURN(uint64_t file_size, file_->size());
    if (!fs.exists(offset_index_path()) || !fs.exists(time_index_path())) {
        co_return false;
    }
    RL_CO_ASSIGN_OR_RETURN(std::vector<std::byte> offset_bytes,
                           co_await io::read_whole_file(fs, offset_index_path()));
    RL_CO_ASSIGN_OR_RETURN(std::vector<std::byte> time_bytes,
                           co_await io::read_whole_file(fs, time_index_path()));
    absl::StatusOr<SegmentIndex> offsets = SegmentIndex::deserialize(offset_bytes);
    absl::StatusOr<SegmentIndex> times = SegmentIndex::deserialize(time_bytes);
    if (!offsets.ok() || !times.ok()) {
        co_return false;
    }
    // An index that points outside the segment belongs to some other version of it.
    for (const auto& entry : offsets->entries()) {
        if (entry.key < base_offset_.value() || entry.key >= next_offset.value() || entry.value < 0
            || static_cast<uint64_t>(entry.value) >= file_size) {
            co_return false;
        }
    }
    for (const auto& entry : times->entries()) {
        if (entry.value < base_offset_.value() || entry.value >= next_offset.value()) {
            co_return false;
        }
    }
    if (file_size > 0 && offsets->empty()) {
        co_return false;
    }
    offset_index_ = *std::move(offsets);
    time_index_ = *std::move(times);
    max_timestamp_ = time_index_.empty() ? -1 : time_index_.last()->key;
    offset_of_max_timestamp_ =
        time_index_.empty() ? base_offset_ : Offset(time_index_.last()->value);
    size_bytes_ = file_size;
    next_offset_ = next_offset;
    sealed_ = true;
    co_return true;
}

io::Task<absl::Status> Segment::write_indexes(io::FileSystem& fs) {
    RL_CO_RETURN_IF_ERROR(
        co_await io::write_whole_file(fs, offset_index_path(), offset_index_.serialize()));
    co_return co_await io::write_whole_file(fs, time_index_path(), time_index_.serialize());
}

}  // namespace ringlog::core
