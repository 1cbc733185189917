#include "core/log_cleaner.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <absl/container/flat_hash_map.h>
#include <absl/strings/str_cat.h>

#include "core/file_window.h"
#include "io/base/align.h"
#include "io/base/assert.h"
#include "io/base/limits.h"
#include "io/base/status_macros.h"
#include "net/kafka/compression.h"
#include "net/kafka/record_batch.h"

namespace ringlog::core {

namespace {

using net::kafka::Compression;
using net::kafka::Record;
using net::kafka::RecordBatchView;
using net::kafka::RecordIterator;
namespace batch_field = net::kafka::batch_field;
namespace big_endian = net::kafka::big_endian;

constexpr size_t map_read_bytes = 1024 * 1024;
constexpr size_t copy_window_bytes = 1024 * 1024;
constexpr size_t write_buffer_bytes = 1024 * 1024;
// Records of one batch may inflate to this much; a batch beyond it is kept as it is.
constexpr size_t inflated_bytes_max = 64 * 1024 * 1024;
// The I/O budget is paid in steps of this, not per batch.
constexpr uint64_t budget_step_bytes = 64 * 1024;

static_assert(write_buffer_bytes % limits::dma_alignment == 0);

absl::string_view key_view(std::span<const std::byte> key) {
    return {reinterpret_cast<const char*>(key.data()), key.size()};
}

// What the map pass learns of the whole log.
struct KeyMap {
    absl::flat_hash_map<std::string, int64_t> newest;  // key -> offset of its newest record
    absl::flat_hash_map<int64_t, int64_t> last_batch;  // producer id -> base offset of its last
};

// Pays the budget in steps, and counts what it was paid for.
class Meter {
public:
    Meter(io::IoBudget* budget, uint64_t& total) : budget_(budget), total_(total) {}

    io::Task<void> add(uint64_t bytes) {
        total_ += bytes;
        pending_ += bytes;
        if (budget_ != nullptr && pending_ >= budget_step_bytes) {
            const uint64_t step = pending_;
            pending_ = 0;
            co_await budget_->spend(step);
        }
    }

private:
    io::IoBudget* budget_;
    uint64_t& total_;
    uint64_t pending_ = 0;
};

// The records region of a batch, inflated into `storage` if it is compressed.
absl::StatusOr<std::span<const std::byte>> records_of(const RecordBatchView& batch,
                                                      std::vector<std::byte>& storage) {
    if (batch.compression() == Compression::none) {
        return batch.records_bytes();
    }
    RL_ASSIGN_OR_RETURN(storage, net::kafka::decompress(batch.compression(), batch.records_bytes(),
                                                        inflated_bytes_max));
    return std::span<const std::byte>(storage);
}

void index_batch(const RecordBatchView& batch, KeyMap& map) {
    const int64_t base = batch.base_offset();
    if (batch.producer_id() >= 0) {
        map.last_batch[batch.producer_id()] = base;
    }
    if (batch.is_control()) {
        return;
    }
    std::vector<std::byte> storage;
    absl::StatusOr<std::span<const std::byte>> records = records_of(batch, storage);
    if (!records.ok()) {
        // Its keys stay out of the map, so older records of those keys are kept: fewer records
        // removed, never a wrong one. The copy pass keeps this batch as it is.
        return;
    }
    RecordIterator iterator(*records, batch.records_count());
    Record record;
    while (iterator.next(record)) {
        if (!record.key.has_value()) {
            continue;
        }
        const int64_t offset = base + record.offset_delta;
        auto it = map.newest.find(key_view(*record.key));
        if (it != map.newest.end()) {
            it->second = std::max(it->second, offset);
        } else {
            map.newest.emplace(std::string(key_view(*record.key)), offset);
        }
    }
}

io::Task<absl::Status> build_map(Log& log, KeyMap& map, const CleanOptions& options,
                                 CleanResult& result) {
    Meter meter(options.budget, result.bytes_read);
    Offset from = log.log_start_offset();
    // Data appended during the pass is not needed: anything it supersedes is cleaned next time.
    const Offset end = log.high_watermark();
    while (from < end) {
        if (options.stop && options.stop()) {
            result.stopped = true;
            co_return absl::OkStatus();
        }
        RL_CO_ASSIGN_OR_RETURN(LogReadResult read, co_await log.read(from, map_read_bytes));
        if (read.views.empty()) {
            break;
        }
        std::vector<std::byte> bytes;
        bytes.reserve(read.bytes);
        for (const io::BufferView& view : read.views) {
            bytes.insert(bytes.end(), view.bytes().begin(), view.bytes().end());
        }
        read.views.clear();  // the log's buffers go back before the work on the copy
        size_t position = 0;
        while (position < bytes.size()) {
            RL_CO_ASSIGN_OR_RETURN(RecordBatchView batch,
                                   RecordBatchView::parse(std::span(bytes).subspan(position)));
            index_batch(batch, map);
            position += batch.size_bytes();
        }
        from = read.next_offset;
        co_await meter.add(bytes.size());
    }
    co_return absl::OkStatus();
}

// What becomes of one batch.
struct Verdict {
    enum class Kind { keep, drop, rebuild } kind = Kind::keep;
    std::vector<std::byte> rebuilt;  // Kind::rebuild: the new batch
    uint64_t records_removed = 0;
    uint64_t tombstones_removed = 0;
    int64_t tombstones_expire_ms = INT64_MAX;  // for the tombstones it keeps
};

// The batch's header with `records` (already compressed as the header says) after it.
std::vector<std::byte> rebuild(const RecordBatchView& batch, std::span<const std::byte> records,
                               int32_t records_count, bool drop_codec) {
    std::vector<std::byte> out(batch.bytes().begin(),
                               batch.bytes().begin() + net::kafka::batch_header_bytes);
    out.insert(out.end(), records.begin(), records.end());
    big_endian::store(out.data() + batch_field::batch_length,
                      static_cast<int32_t>(out.size() - net::kafka::batch_log_overhead_bytes));
    big_endian::store(out.data() + batch_field::records_count, records_count);
    if (drop_codec) {
        const auto attributes = static_cast<uint16_t>(batch.attributes());
        big_endian::store(
            out.data() + batch_field::attributes,
            static_cast<uint16_t>(attributes & ~net::kafka::batch_attribute::compression_mask));
    }
    net::kafka::update_crc(out);
    return out;
}

absl::StatusOr<Verdict> judge(const RecordBatchView& batch, const KeyMap& map, int64_t now_ms,
                              int64_t delete_retention_ms) {
    Verdict verdict;
    if (batch.is_control()) {
        return verdict;
    }
    std::vector<std::byte> storage;
    absl::StatusOr<std::span<const std::byte>> records = records_of(batch, storage);
    if (!records.ok()) {
        std::fprintf(stderr, "ringlog: cleaner keeps batch at %ld as it is: %s\n",
                     static_cast<long>(batch.base_offset()),
                     std::string(records.status().message()).c_str());
        return verdict;
    }
    const int64_t base = batch.base_offset();
    // E.g. max timestamp 10:00:00 and one day of delete.retention.ms: its tombstones go in the
    // first clean after 10:00:00 the next day.
    const int64_t tombstone_deadline_ms = batch.max_timestamp() + delete_retention_ms;
    std::vector<std::byte> kept;
    int32_t kept_count = 0;
    RecordIterator iterator(*records, batch.records_count());
    Record record;
    while (iterator.next(record)) {
        bool keep = true;
        if (record.key.has_value()) {
            const auto it = map.newest.find(key_view(*record.key));
            keep = it == map.newest.end() || it->second <= base + record.offset_delta;
        }
        if (keep && record.key.has_value() && !record.value.has_value()) {
            if (now_ms > tombstone_deadline_ms) {
                keep = false;
                ++verdict.tombstones_removed;
            } else {
                verdict.tombstones_expire_ms = tombstone_deadline_ms + 1;
            }
        }
        if (keep) {
            const std::span<const std::byte> bytes = iterator.record_bytes();
            kept.insert(kept.end(), bytes.begin(), bytes.end());
            ++kept_count;
        } else {
            ++verdict.records_removed;
        }
    }
    if (!iterator.status().ok()) {
        std::fprintf(stderr, "ringlog: cleaner keeps batch at %ld as it is: %s\n",
                     static_cast<long>(base), std::string(iterator.status().message()).c_str());
        return Verdict{};
    }
    if (verdict.records_removed == 0) {
        return verdict;
    }
    if (kept_count == 0) {
        const auto last = map.last_batch.find(batch.producer_id());
        if (batch.producer_id() < 0 || last == map.last_batch.end() || last->second != base) {
            verdict.kind = Verdict::Kind::drop;
            return verdict;
        }
        // The producer's last batch: its header (sequence, epoch) stays, empty.
        verdict.kind = Verdict::Kind::rebuild;
        verdict.rebuilt = rebuild(batch, {}, 0, true);
        return verdict;
    }
    verdict.kind = Verdict::Kind::rebuild;
    if (batch.compression() == Compression::none) {
        verdict.rebuilt = rebuild(batch, kept, kept_count, false);
    } else {
        RL_ASSIGN_OR_RETURN(std::vector<std::byte> compressed,
                            net::kafka::compress(batch.compression(), kept));
        verdict.rebuilt = rebuild(batch, compressed, kept_count, false);
    }
    return verdict;
}

// Appends batches to the cleaned copy through an aligned buffer (the file is O_DIRECT) and
// notes each in the copy's Segment, so its indexes come out as a scan would build them.
class CleanedWriter {
public:
    CleanedWriter(Segment& segment, int64_t index_interval_bytes, Meter& meter)
        : segment_(segment),
          index_interval_bytes_(index_interval_bytes),
          meter_(meter),
          buffer_(io::BufferRef::allocate(write_buffer_bytes)) {}

    io::Task<absl::Status> append(std::span<const std::byte> batch, int64_t base_offset,
                                  int32_t last_offset_delta, int64_t max_timestamp) {
        const uint64_t position = flushed_ + used_;
        segment_.note_batch(position,
                            {Offset(base_offset), Offset(base_offset + last_offset_delta),
                             max_timestamp, batch.size()},
                            index_interval_bytes_);
        while (!batch.empty()) {
            const size_t count = std::min(batch.size(), write_buffer_bytes - used_);
            std::copy(batch.begin(), batch.begin() + count, buffer_->data() + used_);
            used_ += count;
            batch = batch.subspan(count);
            if (used_ == write_buffer_bytes) {
                RL_CO_RETURN_IF_ERROR(co_await write(write_buffer_bytes));
                flushed_ += write_buffer_bytes;
                used_ = 0;
            }
        }
        co_return absl::OkStatus();
    }

    // Writes the rest (the last block padded, then cut back) and syncs it.
    io::Task<absl::Status> finish() {
        const uint64_t size = flushed_ + used_;
        if (used_ > 0) {
            const size_t padded = base::align_up(used_);
            std::fill(buffer_->data() + used_, buffer_->data() + padded, std::byte{0});
            RL_CO_RETURN_IF_ERROR(co_await write(padded));
        }
        RL_CO_RETURN_IF_ERROR(co_await segment_.file().truncate(size));
        co_return co_await segment_.file().datasync();
    }

private:
    io::Task<absl::Status> write(size_t count) {
        RL_CO_RETURN_IF_ERROR(
            co_await io::write_all(segment_.file(), flushed_, {buffer_->data(), count}));
        co_await meter_.add(count);
        co_return absl::OkStatus();
    }

    Segment& segment_;
    int64_t index_interval_bytes_;
    Meter& meter_;
    io::BufferRef buffer_;
    uint64_t flushed_ = 0;  // bytes of the file written (whole buffers)
    size_t used_ = 0;       // bytes in the buffer after them
};

// Copies `source` into `cleaned` as the verdicts say. Returns whether anything changed.
io::Task<absl::StatusOr<bool>> copy_segment(Log& log, Segment& source, Segment& cleaned,
                                            const KeyMap& map, const CleanOptions& options,
                                            CleanResult& result, Segment::CleanerMark& mark) {
    const int64_t now = log.clock().now_ms();
    Meter reads(options.budget, result.bytes_read);
    Meter writes(options.budget, result.bytes_written);
    CleanedWriter writer(cleaned, log.config().index_interval_bytes, writes);
    FileWindow window(source.file(), source.size_bytes(), copy_window_bytes);
    bool changed = false;
    uint64_t records_removed = 0;
    uint64_t tombstones_removed = 0;
    uint64_t position = 0;
    while (position < source.size_bytes()) {
        if (options.stop && options.stop()) {
            result.stopped = true;
            co_return false;
        }
        constexpr size_t header_bytes = net::kafka::batch_header_bytes;
        RL_CO_RETURN_IF_ERROR(co_await window.ensure(position, header_bytes));
        if (window.available(position) < header_bytes) {
            co_return absl::DataLossError(
                absl::StrCat(source.path(), ": batch header cut off at ", position));
        }
        RL_CO_ASSIGN_OR_RETURN(RecordBatchView header,
                               RecordBatchView::parse_header(window.bytes(position, header_bytes)));
        const uint64_t size = header.size_bytes();
        RL_CO_RETURN_IF_ERROR(co_await window.ensure(position, size));
        if (window.available(position) < size) {
            co_return absl::DataLossError(
                absl::StrCat(source.path(), ": batch cut off at ", position));
        }
        RL_CO_ASSIGN_OR_RETURN(RecordBatchView batch,
                               RecordBatchView::parse(window.bytes(position, size)));
        if (absl::Status crc = batch.validate_crc(); !crc.ok()) {
            co_return absl::DataLossError(
                absl::StrCat(source.path(), " at ", position, ": ", crc.message()));
        }
        co_await reads.add(size);
        RL_CO_ASSIGN_OR_RETURN(Verdict verdict,
                               judge(batch, map, now, log.config().delete_retention_ms));
        mark.tombstones_expire_ms =
            std::min(mark.tombstones_expire_ms, verdict.tombstones_expire_ms);
        records_removed += verdict.records_removed;
        tombstones_removed += verdict.tombstones_removed;
        switch (verdict.kind) {
            case Verdict::Kind::keep:
                RL_CO_RETURN_IF_ERROR(co_await writer.append(batch.bytes(), batch.base_offset(),
                                                             batch.last_offset_delta(),
                                                             batch.max_timestamp()));
                break;
            case Verdict::Kind::drop:
                changed = true;
                break;
            case Verdict::Kind::rebuild:
                changed = true;
                RL_CO_RETURN_IF_ERROR(co_await writer.append(verdict.rebuilt, batch.base_offset(),
                                                             batch.last_offset_delta(),
                                                             batch.max_timestamp()));
                break;
        }
        position += size;
    }
    if (!changed) {
        co_return false;
    }
    RL_CO_RETURN_IF_ERROR(co_await writer.finish());
    result.records_removed += records_removed;
    result.tombstones_removed += tombstones_removed;
    co_return true;
}

io::Task<absl::Status> clean_segment(Log& log, std::shared_ptr<Segment> source, const KeyMap& map,
                                     const CleanOptions& options, CleanResult& result) {
    io::FileSystem& fs = log.fs();
    const std::string path = source->cleaned_path();
    if (fs.exists(path)) {
        RL_CO_RETURN_IF_ERROR(fs.remove(path));  // an earlier attempt that failed
    }
    RL_CO_ASSIGN_OR_RETURN(std::unique_ptr<io::File> file,
                           co_await fs.open(path, {.create = true, .exclusive = true}));
    auto cleaned = std::make_shared<Segment>(log.dir(), source->base_offset(), std::move(file));
    Segment::CleanerMark mark{.cleaned = true, .tombstones_expire_ms = INT64_MAX};
    absl::StatusOr<bool> changed =
        co_await copy_segment(log, *source, *cleaned, map, options, result, mark);
    if (!changed.ok() || !*changed) {
        (void)co_await cleaned->file().close();
        (void)fs.remove(path);
        if (changed.ok() && !result.stopped) {
            source->set_cleaner_mark(mark);
        }
        co_return changed.status();
    }
    cleaned->seal(source->next_offset());
    cleaned->set_cleaner_mark(mark);
    absl::Status status = co_await log.replace_segment(source, cleaned);
    if (absl::IsNotFound(status)) {
        co_return absl::OkStatus();  // retention deleted it meanwhile: nothing left to clean
    }
    RL_CO_RETURN_IF_ERROR(status);
    ++result.segments_rewritten;
    co_return absl::OkStatus();
}

}  // namespace

double dirty_ratio(const Log& log) {
    uint64_t total = 0;
    uint64_t dirty = 0;
    for (const auto& segment : log.sealed_segments()) {
        total += segment->size_bytes();
        dirty += segment->cleaner_mark().cleaned ? 0 : segment->size_bytes();
    }
    return total == 0 ? 0.0 : static_cast<double>(dirty) / static_cast<double>(total);
}

bool needs_cleaning(const Log& log, int64_t now_ms) {
    if (!log.config().compact) {
        return false;
    }
    bool dirty = false;
    for (const auto& segment : log.sealed_segments()) {
        if (segment->cleaner_mark().tombstones_expire_ms <= now_ms) {
            return true;
        }
        dirty = dirty || !segment->cleaner_mark().cleaned;
    }
    return dirty && dirty_ratio(log) >= log.config().min_cleanable_dirty_ratio;
}

io::Task<absl::StatusOr<CleanResult>> clean_log(Log& log, CleanOptions options) {
    CleanResult result;
    const std::vector<std::shared_ptr<Segment>> sealed = log.sealed_segments();
    if (sealed.empty()) {
        co_return result;
    }
    KeyMap map;
    RL_CO_RETURN_IF_ERROR(co_await build_map(log, map, options, result));
    // Oldest first: see the file comment.
    for (const auto& segment : sealed) {
        if (result.stopped || (options.stop && options.stop())) {
            result.stopped = true;
            break;
        }
        RL_CO_RETURN_IF_ERROR(co_await clean_segment(log, segment, map, options, result));
    }
    co_return result;
}

}  // namespace ringlog::core
