#include "core/log.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include <absl/strings/str_cat.h>

#include "core/file_window.h"
#include "core/producer_snapshot.h"
#include "core/segment_names.h"
#include "core/segment_scanner.h"
#include "io/base/align.h"
#include "io/base/assert.h"
#include "io/base/limits.h"
#include "io/base/status_macros.h"
#include "net/kafka/record_batch.h"

namespace ringlog::core {

using base::align_down;
using base::align_up;

namespace {

using net::kafka::RecordBatchView;

BatchInfo info_of(const RecordBatchView& batch, Offset base_offset) {
    return {base_offset, base_offset + batch.last_offset_delta(), batch.max_timestamp(),
            batch.size_bytes()};
}

// Walks the batches of a validated byte run (append() has checked every header already).
template <typename Fn>
void for_each_batch(std::span<const std::byte> batches, Fn fn) {
    size_t position = 0;
    while (position < batches.size()) {
        const RecordBatchView batch = *RecordBatchView::parse(batches.subspan(position));
        fn(position, batch);
        position += batch.size_bytes();
    }
}

}  // namespace

Log::Log(io::FileSystem& fs, std::string dir, LogConfig config, const Clock& clock,
         io::BufferPool* pool, GroupSync* group_sync)
    : fs_(fs),
      dir_(std::move(dir)),
      config_(config),
      clock_(clock),
      pool_(pool),
      group_sync_(group_sync) {
    RL_ASSERT(config_.segment_bytes >= limits::segment_bytes_min);
    RL_ASSERT(config_.segment_bytes % limits::dma_alignment == 0);
}

Log::~Log() {
    RL_ASSERT(closed_ || background_.active() == 0, "a Log was destroyed while open");
}

io::Task<absl::StatusOr<std::unique_ptr<Log>>> Log::open(io::FileSystem& fs, std::string dir,
                                                         LogConfig config, const Clock& clock,
                                                         io::BufferPool* pool,
                                                         GroupSync* group_sync) {
    std::unique_ptr<Log> log(new Log(fs, std::move(dir), config, clock, pool, group_sync));
    absl::Status status = co_await log->recover();
    if (!status.ok()) {
        log->closed_ = true;
        co_return status;
    }
    log->background_.spawn(log->run_flusher());
    co_return log;
}

// ---------------------------------------------------------------------------------------------
// Recovery

io::Task<absl::Status> Log::recover() {
    RL_CO_RETURN_IF_ERROR(fs_.make_dirs(dir_));
    if (fs_.in_memory(dir_)) {
        // On tmpfs every zero written is a CPU copy into a page of memory, for nothing: it
        // doubled the bytes the shards copied and starved the consumers (bench/README.md).
        config_.prewrite_ahead_bytes = 0;
    }
    RL_CO_ASSIGN_OR_RETURN(std::vector<std::string> names, fs_.list_dir(dir_));
    std::vector<Offset> bases;
    bool removed_leftovers = false;
    for (const std::string& name : names) {
        if (auto base = parse_segment_log_name(name)) {
            bases.push_back(*base);
        } else if (is_cleaned_segment_name(name) || is_spare_segment_name(name)) {
            // A clean that stopped before its rename (the .log it was copying is still whole),
            // or a spare file of the last run: neither holds anything the log needs.
            RL_CO_RETURN_IF_ERROR(fs_.remove(absl::StrCat(dir_, "/", name)));
            removed_leftovers = true;
        }
    }
    if (removed_leftovers) {
        RL_CO_RETURN_IF_ERROR(co_await fs_.sync_dir(dir_));
    }
    std::sort(bases.begin(), bases.end());

    if (bases.empty()) {
        uint64_t prewritten = 0;
        RL_CO_ASSIGN_OR_RETURN(std::shared_ptr<Segment> segment,
                               co_await create_segment(Offset(0), prewritten));
        segments_.push_back(std::move(segment));
        tail_ = std::make_unique<LogTail>(pool_, 0);
        next_offset_ = durable_offset_ = written_offset_ = Offset(0);
        co_return co_await recover_producers(names);
    }

    for (size_t i = 0; i < bases.size(); ++i) {
        RL_CO_ASSIGN_OR_RETURN(
            std::unique_ptr<io::File> file,
            co_await fs_.open(segment_path(dir_, bases[i], SegmentFileKind::log), {}));
        auto segment = std::make_shared<Segment>(dir_, bases[i], std::move(file));
        if (i + 1 < bases.size()) {
            RL_CO_RETURN_IF_ERROR(co_await recover_sealed(*segment, bases[i + 1]));
        } else {
            RL_CO_RETURN_IF_ERROR(co_await recover_active(*segment));
        }
        segments_.push_back(std::move(segment));
    }
    co_return co_await recover_producers(names);
}

io::Task<absl::Status> Log::recover_sealed(Segment& segment, Offset next_base) {
    RL_CO_ASSIGN_OR_RETURN(bool loaded, co_await segment.load_indexes(fs_, next_base));
    if (loaded) {
        co_return absl::OkStatus();
    }
    // Missing or damaged indexes: rebuild them from the batches. A sealed segment was synced
    // before it was sealed, so anything but a clean end here is corruption, not a torn write.
    Offset expected = segment.base_offset();
    const int64_t interval = config_.index_interval_bytes;
    RL_CO_ASSIGN_OR_RETURN(
        ScanResult scan,
        co_await scan_segment(
            segment.file(), {}, [&](uint64_t position, const RecordBatchView& batch, bool) {
                const Offset base(batch.base_offset());
                if (base < expected || base + batch.last_offset_delta() >= next_base) {
                    return false;
                }
                segment.note_batch(position, info_of(batch, base), interval);
                expected = base + batch.last_offset_delta() + 1;
                return true;
            }));
    if (scan.end != ScanEnd::clean) {
        co_return absl::DataLossError(
            absl::StrCat("sealed segment ", segment.path(), " is corrupt: ", scan.detail));
    }
    RL_CO_ASSIGN_OR_RETURN(uint64_t file_size, segment.file().size());
    if (file_size > scan.valid_end) {
        // A roll that crashed before it cut the preallocated space off; finish it.
        RL_CO_RETURN_IF_ERROR(co_await segment.file().truncate(scan.valid_end));
        RL_CO_RETURN_IF_ERROR(co_await segment.file().datasync());
    }
    segment.seal(next_base);
    co_return co_await segment.write_indexes(fs_);
}

io::Task<absl::Status> Log::recover_active(Segment& segment) {
    Offset expected = segment.base_offset();
    const int64_t interval = config_.index_interval_bytes;
    RL_CO_ASSIGN_OR_RETURN(
        ScanResult scan,
        co_await scan_segment(segment.file(), {},
                              [&](uint64_t position, const RecordBatchView& batch, bool) {
                                  const Offset base(batch.base_offset());
                                  if (base < expected) {
                                      return false;
                                  }
                                  segment.note_batch(position, info_of(batch, base), interval);
                                  expected = base + batch.last_offset_delta() + 1;
                                  return true;
                              }));
    RL_CO_ASSIGN_OR_RETURN(uint64_t file_size, segment.file().size());
    const uint64_t valid_end = scan.valid_end;
    if (file_size > valid_end) {
        // Cut off the torn tail and whatever else lies past the valid data (preallocated zeros,
        // or blocks of unacknowledged writes that reached the disk out of order): left in
        // place, an old batch could line up behind new appends and come back to life.
        if (scan.end != ScanEnd::clean) {
            std::fprintf(stderr, "ringlog: %s: truncating at %lu: %s\n", segment.path().c_str(),
                         static_cast<unsigned long>(valid_end), scan.detail.c_str());
        }
        stats_.recovered_truncated_bytes += file_size - valid_end;
        RL_CO_RETURN_IF_ERROR(co_await segment.file().truncate(valid_end));
    }
    if (static_cast<int64_t>(valid_end) < config_.segment_bytes) {
        RL_CO_RETURN_IF_ERROR(co_await segment.file().allocate(
            align_down(valid_end), preallocation_bytes(align_down(valid_end))));
    }
    RL_CO_RETURN_IF_ERROR(co_await segment.file().datasync());

    // The next write rewrites the partial last block, so its bytes must be in memory.
    const uint64_t page = align_down(valid_end);
    io::BufferRef head = io::BufferRef::allocate(limits::dma_alignment);
    if (page != valid_end) {
        RL_CO_ASSIGN_OR_RETURN(
            size_t count,
            co_await io::read_all(segment.file(), page, {head->data(), limits::dma_alignment}));
        if (count < valid_end - page) {
            co_return absl::DataLossError(absl::StrCat("short read of ", segment.path()));
        }
    }
    tail_ = std::make_unique<LogTail>(pool_, valid_end,
                                      std::span<const std::byte>(head->data(), valid_end - page));
    segment.set_created_ms(clock_.now_ms());
    next_offset_ = durable_offset_ = segment.next_offset();
    written_end_ = durable_end_ = valid_end;
    written_offset_ = durable_offset_;
    prewritten_end_ = align_up(valid_end);
    co_return absl::OkStatus();
}

io::Task<absl::StatusOr<std::shared_ptr<Segment>>> Log::create_segment(Offset base_offset,
                                                                       uint64_t& prewritten) {
    const std::string path = segment_path(dir_, base_offset, SegmentFileKind::log);
    prewritten = 0;
    while (!spares_.empty()) {
        SpareFile spare = std::move(spares_.back());
        spares_.pop_back();
        absl::Status renamed = fs_.rename(spare.path, path);
        if (renamed.ok()) {
            renamed = co_await fs_.sync_dir(dir_);
        }
        if (renamed.ok()) {
            ++stats_.recycled_segments;
            prewritten = align_down(
                std::min<uint64_t>(spare.bytes, static_cast<uint64_t>(config_.segment_bytes)));
            auto segment = std::make_shared<Segment>(dir_, base_offset, std::move(spare.file));
            segment->set_created_ms(clock_.now_ms());
            co_return segment;
        }
        // Whatever went wrong, a fresh file does the job; the spare goes.
        (void)co_await spare.file->close();
        (void)fs_.remove(spare.path);
        (void)fs_.remove(path);
    }
    RL_CO_ASSIGN_OR_RETURN(std::unique_ptr<io::File> file,
                           co_await fs_.open(path, {.create = true, .exclusive = true}));
    absl::Status status = co_await file->allocate(0, preallocation_bytes(0));
    if (status.ok()) {
        status = co_await fs_.sync_dir(dir_);
    }
    if (!status.ok()) {
        (void)co_await file->close();
        (void)fs_.remove(path);
        co_return absl::Status(status.code(),
                               absl::StrCat("create segment ", path, ": ", status.message()));
    }
    auto segment = std::make_shared<Segment>(dir_, base_offset, std::move(file));
    segment->set_created_ms(clock_.now_ms());
    co_return segment;
}

// The producer table: the newest snapshot that checks out, then the batch headers after it.
// A snapshot past the recovered end (its data was lost after all) or one that is damaged is
// removed, so it cannot come back once the log grows past it again.
io::Task<absl::Status> Log::recover_producers(const std::vector<std::string>& names) {
    std::vector<Offset> offsets;
    for (const std::string& name : names) {
        if (auto offset = parse_producer_snapshot_name(name)) {
            offsets.push_back(*offset);
        }
    }
    std::sort(offsets.rbegin(), offsets.rend());
    Offset replay_from = log_start_offset();
    bool loaded = false;
    for (const Offset offset : offsets) {
        const std::string path = absl::StrCat(dir_, "/", producer_snapshot_name(offset));
        if (!loaded) {
            absl::StatusOr<ProducerSnapshot> snapshot;
            if (offset <= next_offset_) {
                absl::StatusOr<std::vector<std::byte>> bytes =
                    co_await io::read_whole_file(fs_, path);
                snapshot = bytes.ok() ? parse_producer_snapshot(*bytes) : bytes.status();
                if (snapshot.ok() && snapshot->offset != offset) {
                    snapshot = absl::DataLossError("offset differs from the name");
                }
            } else {
                snapshot =
                    absl::DataLossError(absl::StrCat("beyond the log end ", next_offset_.value()));
            }
            if (snapshot.ok()) {
                producers_ = std::move(snapshot->table);
                replay_from = std::max(offset, log_start_offset());
                loaded = true;
                producer_snapshot_written_ = true;
                continue;
            }
            std::fprintf(stderr, "ringlog: %s: %s (removed; replaying from further back)\n",
                         path.c_str(), std::string(snapshot.status().message()).c_str());
            RL_CO_RETURN_IF_ERROR(fs_.remove(path));
        }
    }
    RL_CO_RETURN_IF_ERROR(co_await replay_producers(replay_from));
    producers_.forget_before(log_start_offset());
    co_return absl::OkStatus();
}

io::Task<absl::Status> Log::replay_producers(Offset from) {
    for (const std::shared_ptr<Segment>& segment : segments_) {
        if (segment->next_offset() <= from || segment->size_bytes() == 0) {
            continue;  // entirely before the snapshot (or empty)
        }
        const uint64_t start = segment->base_offset() < from ? segment->position_hint(from) : 0;
        RL_CO_ASSIGN_OR_RETURN(
            ScanResult scan,
            co_await scan_segment(segment->file(), {.start = start, .limit = segment->size_bytes()},
                                  [&](uint64_t, const RecordBatchView& batch, bool) {
                                      const Offset base(batch.base_offset());
                                      const ProducerBatch producer = ProducerBatch::of(batch);
                                      if (base >= from && producer.idempotent()) {
                                          producers_.record(producer, base,
                                                            base + batch.last_offset_delta());
                                          ++stats_.producer_batches_replayed;
                                      }
                                      return true;
                                  }));
        if (scan.end != ScanEnd::clean) {
            co_return absl::DataLossError(
                absl::StrCat("replaying producer state from ", segment->path(), ": ", scan.detail));
        }
    }
    co_return absl::OkStatus();
}

std::optional<Log::ProducerSnapshotFile> Log::take_producer_snapshot() const {
    if (producers_.size() == 0 && !producer_snapshot_written_) {
        return std::nullopt;  // no idempotent producer ever wrote here: no files
    }
    return ProducerSnapshotFile{next_offset_,
                                serialize_producer_snapshot(producers_, next_offset_)};
}

// Best effort: a snapshot that cannot be written only makes the next recovery replay more.
io::Task<void> Log::write_producer_snapshot(ProducerSnapshotFile snapshot) {
    const Offset offset = snapshot.offset;
    const std::string path = absl::StrCat(dir_, "/", producer_snapshot_name(offset));
    absl::Status status = co_await io::write_whole_file(fs_, path, std::move(snapshot.bytes));
    if (status.ok()) {
        status = co_await fs_.sync_dir(dir_);
    }
    if (!status.ok()) {
        std::fprintf(stderr, "ringlog: %s: %s\n", path.c_str(),
                     std::string(status.message()).c_str());
        co_return;
    }
    producer_snapshot_written_ = true;
    // Keep the newest two: if the newest turns out damaged, the one before bounds the replay.
    absl::StatusOr<std::vector<std::string>> names = fs_.list_dir(dir_);
    if (!names.ok()) {
        co_return;
    }
    std::vector<Offset> older;
    for (const std::string& name : *names) {
        if (auto found = parse_producer_snapshot_name(name); found && *found < offset) {
            older.push_back(*found);
        }
    }
    std::sort(older.rbegin(), older.rend());
    for (size_t i = 1; i < older.size(); ++i) {
        (void)fs_.remove(absl::StrCat(dir_, "/", producer_snapshot_name(older[i])));
    }
}

// ---------------------------------------------------------------------------------------------
// Append

// Checks every header; the CRC is checked by store(), as the bytes are copied.
absl::Status Log::validate(std::span<const std::byte> batches) const {
    if (batches.empty()) {
        return absl::InvalidArgumentError("no record batch to append");
    }
    size_t position = 0;
    while (position < batches.size()) {
        RL_ASSIGN_OR_RETURN(RecordBatchView batch,
                            RecordBatchView::parse(batches.subspan(position)));
        if (batch.size_bytes() > limits::batch_bytes_max) {
            return absl::InvalidArgumentError(absl::StrCat("batch of ", batch.size_bytes(),
                                                           " bytes exceeds the maximum of ",
                                                           limits::batch_bytes_max));
        }
        position += batch.size_bytes();
    }
    return absl::OkStatus();
}

bool Log::needs_roll(size_t incoming_bytes) const {
    const Segment& segment = active();
    if (segment.size_bytes() == 0) {
        return false;
    }
    return static_cast<int64_t>(segment.size_bytes() + incoming_bytes) > config_.segment_bytes
           || clock_.now_ms() - segment.created_ms() >= config_.segment_ms;
}

absl::Status Log::store(std::span<const std::byte> batches, AppendResult& result) {
    Segment& segment = active();
    const uint64_t start = tail_->end();
    RL_ASSERT(start == segment.size_bytes());
    // Copy first, checking each batch's CRC-32C on the copy; a mismatch takes the copy back
    // before anything else has seen it.
    absl::Status crc_status;
    for_each_batch(batches, [&](size_t position, const RecordBatchView& batch) {
        const uint32_t crc = tail_->append_and_crc(batches.subspan(position, batch.size_bytes()),
                                                   net::kafka::batch_crc_begin);
        if (crc != batch.crc() && crc_status.ok()) {
            crc_status = absl::DataLossError(absl::StrCat(
                "CRC mismatch in batch ", position, ": stored ", batch.crc(), " computed ", crc));
        }
    });
    if (!crc_status.ok()) {
        tail_->truncate(start);
        return crc_status;
    }
    if (segment.size_bytes() == 0) {
        segment.set_created_ms(clock_.now_ms());
    }
    Offset offset = next_offset_;
    result.base_offset = offset;
    for_each_batch(batches, [&](size_t position, const RecordBatchView& batch) {
        // baseOffset and partitionLeaderEpoch are outside the CRC: patch them in our copy.
        std::byte header[12];
        uint64_t base = static_cast<uint64_t>(offset.value());
        for (int i = 7; i >= 0; --i) {
            header[i] = static_cast<std::byte>(base & 0xff);
            base >>= 8;
        }
        tail_->overwrite(start + position, {header, 8});
        const std::byte zero_epoch[4] = {};
        tail_->overwrite(start + position + 12, zero_epoch);
        const BatchInfo info = info_of(batch, offset);
        segment.note_batch(start + position, info, config_.index_interval_bytes);
        const ProducerBatch producer = ProducerBatch::of(batch);
        if (producer.idempotent()) {
            producers_.record(producer, info.base_offset, info.last_offset);
        }
        offset = info.last_offset + 1;
    });
    result.last_offset = offset - 1;
    next_offset_ = offset;
    ++stats_.appends;
    return absl::OkStatus();
}

io::Task<absl::StatusOr<AppendResult>> Log::append(std::span<const std::byte> batches,
                                                   AppendWait wait) {
    RL_CO_RETURN_IF_ERROR(validate(batches));
    std::optional<std::chrono::steady_clock::time_point> stalled_since;
    while (true) {
        if (closing_ || closed_) {
            co_return absl::FailedPreconditionError(absl::StrCat("log ", dir_, " is closed"));
        }
        const bool behind = dirty_bytes() >= config_.dirty_bytes_max;
        const bool roll_first = !rolling_ && !behind && needs_roll(batches.size());
        if ((rolling_ || behind || roll_first) && !stalled_since) {
            stalled_since = std::chrono::steady_clock::now();
        }
        if (rolling_) {
            co_await roll_done_.wait();
            continue;
        }
        if (behind) {
            // Back-pressure: the disk is behind. Wait for the flusher rather than grow memory;
            // if it is failing, refuse the append instead of queueing more.
            if (!last_flush_error_.ok()) {
                co_return last_flush_error_;
            }
            write_requested_ = true;
            work_.notify_all();
            co_await flushed_.wait();
            continue;
        }
        if (roll_first) {
            rolling_ = true;
            absl::Status status = co_await roll();
            rolling_ = false;
            roll_done_.notify_all();
            RL_CO_RETURN_IF_ERROR(status);
            continue;
        }
        break;
    }
    if (stalled_since) {
        stats_.append_stall.record(
            static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                      std::chrono::steady_clock::now() - *stalled_since)
                                      .count()));
    }

    // From here to the store nothing suspends: the producer table judges the batches in the
    // order they are stored, however many appends of one producer were waiting above.
    const SequenceCheck sequence = check_sequences(batches);
    if (sequence.verdict == SequenceVerdict::duplicate) {
        co_return co_await answer_duplicate(sequence, wait);
    }
    if (sequence.verdict != SequenceVerdict::accept) {
        co_return AppendResult{Offset(-1), Offset(-1), sequence.verdict};
    }
    AppendResult result;
    result.generation = rollback_generation_;
    RL_CO_RETURN_IF_ERROR(store(batches, result));

    if (config_.durability != Durability::always) {
        watermark_moved_.notify_all();
        if (dirty_bytes() >= tail_->chunk_bytes()) {
            write_requested_ = true;
            work_.notify_all();
        }
        co_return result;
    }
    sync_requested_ = true;
    work_.notify_all();
    if (wait == AppendWait::in_memory) {
        co_return result;  // the flusher syncs it with the next group; readers see it then
    }
    RL_CO_RETURN_IF_ERROR(co_await wait_durable(result));
    co_return result;
}

io::Task<absl::Status> Log::wait_durable(AppendResult stored) {
    if (config_.durability != Durability::always) {
        co_return absl::OkStatus();
    }
    while (durable_offset_ <= stored.last_offset) {
        if (rollback_generation_ != stored.generation) {
            // Our bytes (or, for a duplicate, the original's) were dropped: not acknowledged.
            co_return last_flush_error_.ok()
                ? absl::UnavailableError(absl::StrCat("log ", dir_, " dropped unflushed appends"))
                : last_flush_error_;
        }
        if (closed_) {
            co_return absl::FailedPreconditionError(absl::StrCat("log ", dir_, " is closed"));
        }
        co_await flushed_.wait();
    }
    co_return absl::OkStatus();
}

SequenceCheck Log::check_sequences(std::span<const std::byte> batches) const {
    // Clients send one batch per partition; several are judged in order, each later batch of a
    // producer against the one before it in this append (not yet in the table). The first
    // verdict that is not `accept` decides for the whole append, as in Kafka's
    // UnifiedLog.analyzeAndValidateProducerState.
    size_t position = 0;
    while (position < batches.size()) {
        const RecordBatchView batch = *RecordBatchView::parse(batches.subspan(position));
        const ProducerBatch producer = ProducerBatch::of(batch);
        if (producer.idempotent()) {
            std::optional<ProducerBatch> previous;
            for_each_batch(batches.first(position), [&](size_t, const RecordBatchView& earlier) {
                const ProducerBatch candidate = ProducerBatch::of(earlier);
                if (candidate.producer_id == producer.producer_id) {
                    previous = candidate;
                }
            });
            SequenceCheck check;
            if (previous) {
                check.verdict = ProducerStateTable::check_follows(*previous, producer);
            } else {
                check = producers_.check(producer);
            }
            if (check.verdict != SequenceVerdict::accept) {
                return check;
            }
        }
        position += batch.size_bytes();
    }
    return {};
}

io::Task<absl::StatusOr<AppendResult>> Log::answer_duplicate(SequenceCheck duplicate,
                                                             AppendWait wait) {
    ++stats_.duplicates;
    const AppendResult result{duplicate.base_offset, duplicate.last_offset,
                              SequenceVerdict::duplicate, rollback_generation_};
    if (wait == AppendWait::in_memory) {
        co_return result;
    }
    // The original may still wait for its sync: the retry is acknowledged when it would have
    // been. If that flush fails, the original is rolled back (and forgotten by the table), and
    // so the retry fails as the original did; the client's next retry stores it.
    RL_CO_RETURN_IF_ERROR(co_await wait_durable(result));
    co_return result;
}

io::Task<absl::Status> Log::roll() {
    std::shared_ptr<Segment> old;
    {
        co_await flush_mutex_.lock();
        io::AsyncMutexUnlock unlock(flush_mutex_);
        // 1. Everything in the old segment goes to stable storage, whatever the policy, so that
        //    only the last segment can ever have a torn tail.
        RL_CO_RETURN_IF_ERROR(co_await flush_locked(true));
        // 2. The new segment exists before the old one is sealed; if it cannot be created (no
        //    space), the old one simply stays active.
        uint64_t prewritten = 0;
        RL_CO_ASSIGN_OR_RETURN(std::shared_ptr<Segment> next,
                               co_await create_segment(next_offset_, prewritten));
        old = segments_.back();
        old->seal(next_offset_);
        segments_.push_back(std::move(next));
        if (config_.tail_bytes_max > 0) {
            previous_tail_ = std::move(tail_);
            previous_segment_ = old;
        }
        tail_ = std::make_unique<LogTail>(pool_, 0);
        written_end_ = durable_end_ = 0;
        prewritten_end_ = prewritten;
        written_offset_ = durable_offset_ = next_offset_;
    }
    // Appends go on into the new segment while the old one is sealed behind them: the seal is a
    // handful of syncs, and a producer must not wait for a slow disk to finish bookkeeping that
    // recovery could redo. The producer table is taken now, while it is exactly the table as of
    // the new segment's base offset (nothing has been appended since the switch).
    background_.spawn(seal(std::move(old), take_producer_snapshot()));
    co_return absl::OkStatus();
}

io::Task<void> Log::seal(std::shared_ptr<Segment> old,
                         std::optional<ProducerSnapshotFile> snapshot) {
    co_await maintenance_mutex_.lock();
    io::AsyncMutexUnlock unlock(maintenance_mutex_);
    // 3. Cut the old segment's preallocated space off and write its indexes. If this fails, or
    //    the broker dies first, the log stays correct: recovery rebuilds missing indexes and
    //    trims the file. A segment that retention removed while this seal waited for an
    //    earlier one gets no indexes: they would be files of a segment that no longer exists.
    absl::Status status;
    if (std::find(segments_.begin(), segments_.end(), old) != segments_.end()) {
        status = co_await old->file().truncate(old->size_bytes());
        if (status.ok()) {
            status = co_await old->file().datasync();
        }
        if (status.ok()) {
            status = co_await old->write_indexes(fs_);
        }
    }
    if (!status.ok()) {
        std::fprintf(stderr, "ringlog: sealing %s: %s (recovery will repair it)\n",
                     old->path().c_str(), std::string(status.message()).c_str());
    }
    // 4. The producer table as of the new segment's base offset, so that recovery replays at
    //    most the segments after it (without it, recovery replays from the snapshot before).
    if (snapshot) {
        co_await write_producer_snapshot(std::move(*snapshot));
    }
    // 5. Size retention at once, not only on the shard's periodic check: a log appended to
    //    without pause stays within retention.bytes, and the segment it drops becomes the
    //    spare file of a later roll. (Time retention waits for the periodic check, as Kafka's.)
    status = co_await remove_retained(/*by_time=*/false);
    if (!status.ok()) {
        std::fprintf(stderr, "ringlog: retention of %s: %s\n", dir_.c_str(),
                     std::string(status.message()).c_str());
    }
}

io::Task<void> Log::wait_sealed() {
    co_await maintenance_mutex_.lock();
    maintenance_mutex_.unlock();
}

// ---------------------------------------------------------------------------------------------
// Flushing

io::Task<void> Log::run_flusher() {
    const auto interval =
        std::chrono::milliseconds(std::max<int64_t>(1, config_.flush_interval_ms));
    while (!closing_) {
        const bool sync = sync_requested_;
        const bool write = write_requested_;
        if (!sync && !write) {
            if (prewrite_wanted()) {
                co_await prewrite_step();
                continue;
            }
            if (config_.durability == Durability::always) {
                co_await work_.wait();
                continue;
            }
            const bool woken = co_await work_.wait_for(interval);
            if (!woken && dirty_bytes() + (tail_->end() - durable_end_) > 0) {
                // The interval timer: `interval` syncs, `none` only writes.
                sync_requested_ = config_.durability == Durability::interval;
                write_requested_ = true;
            }
            continue;
        }
        co_await flush_mutex_.lock();
        sync_requested_ = false;
        write_requested_ = false;
        absl::Status status = co_await flush_locked(sync);
        flush_mutex_.unlock();
        if (!status.ok() && config_.durability != Durability::always) {
            // Keep the data and try again on the next tick rather than spin on a failing disk.
            (void)co_await work_.wait_for(interval);
        }
    }
}

bool Log::tail_memory_short() const {
    // The shard's pool is its tail-memory budget, shared by all its logs: 1,000 partitions
    // keeping 8 MiB each would want 8 GB, and every chunk past the pool is fresh heap memory
    // the kernel zeroes on first touch (half the broker's CPU at 1,000 partitions, perf).
    return pool_ != nullptr && pool_->available() < pool_->count() / 8;
}

void Log::release_written_tail(uint64_t end) {
    // Keep tail_bytes_max of written data in memory for readers (none while the shard's tail
    // memory is short); the rest is on disk.
    const uint64_t keep = tail_memory_short() ? 0 : config_.tail_bytes_max;
    if (end > keep) {
        tail_->release_before(std::min(align_down(written_end_), end - keep));
        previous_tail_.reset();  // the new tail alone holds what is kept now
    }
}

io::Task<absl::Status> Log::flush_locked(bool sync) {
    RL_ASSERT(flush_mutex_.locked());
    if (sync && config_.sync_method == SyncMethod::dsync_write) {
        co_return co_await flush_once_locked(sync);
    }
    while (true) {
        const uint64_t end = tail_->end();
        const bool unsynced = sync && written_end_ > durable_end_;
        const bool dirty = end > written_end_;
        if (!unsynced && !dirty) {
            break;
        }
        // Adaptive: nothing written awaits a sync and little is to be written, so one dsync
        // write makes it durable, if the shard's GroupSync has a round free for it.
        const bool solo = sync && !unsynced && adaptive_dsync_fits(end)
                          && (group_sync_ == nullptr || group_sync_->try_begin_solo());
        absl::Status status;
        if (solo) {
            status = co_await flush_once_locked(sync);  // one dsync write
            if (group_sync_ != nullptr) {
                group_sync_->end_solo();
            }
        } else {
            status = co_await pipelined_step_locked(sync);
        }
        if (!status.ok()) {
            co_return status;
        }
        if (!sync) {
            break;  // one write per call; the flusher calls again for more
        }
    }
    flushed_.notify_all();
    co_return absl::OkStatus();
}

// Pipelined: while the sync of what is written runs, the bytes appended meanwhile are written
// beside it, so under load each step costs the longer of a write and a sync rather than both
// (a sync costs about as much as the write before it: LIMITS.md D6, D8). The sync covers only
// writes that completed before it started; the block the two share holds the same bytes below
// the synced end in either version.
io::Task<absl::Status> Log::pipelined_step_locked(bool sync) {
    const uint64_t end = tail_->end();
    const Offset end_offset = next_offset_;
    const bool unsynced = sync && written_end_ > durable_end_;
    const bool dirty = end > written_end_;
    const uint64_t synced_end = written_end_;
    const Offset synced_offset = written_offset_;
    absl::Status sync_status;
    absl::Status write_status;
    io::TaskGroup operations;
    if (unsynced) {
        operations.spawn(sync_active(sync_status));
    }
    if (dirty) {
        operations.spawn(write_dirty(written_end_, write_status));
    }
    stats_.overlapped_syncs += unsynced && dirty ? 1 : 0;
    co_await operations.wait_idle();
    ++stats_.flushes;
    if (unsynced && sync_status.ok()) {
        durable_end_ = synced_end;
        durable_offset_ = synced_offset;
        watermark_moved_.notify_all();
    }
    if (dirty && write_status.ok()) {
        written_end_ = end;
        written_offset_ = end_offset;
        prewritten_end_ = std::max(prewritten_end_, align_up(end));
        release_written_tail(end);
    }
    const absl::Status failed = !sync_status.ok() ? sync_status : write_status;
    if (!failed.ok()) {
        last_flush_error_ = absl::Status(
            failed.code(), absl::StrCat("flush ", active().path(), ": ", failed.message()));
        return_flush_error();
        co_return last_flush_error_;
    }
    last_flush_error_ = absl::OkStatus();
    flushed_.notify_all();
    co_return absl::OkStatus();
}

void Log::return_flush_error() {
    if (config_.durability == Durability::always) {
        roll_back_unflushed(last_flush_error_);
    }
    flushed_.notify_all();
}

io::Task<absl::Status> Log::datasync_active() {
    if (group_sync_ != nullptr) {
        co_return co_await group_sync_->datasync(active().file());
    }
    co_return co_await active().file().datasync();
}

io::Task<void> Log::sync_active(absl::Status& status) {
    const auto started = std::chrono::steady_clock::now();
    status = co_await datasync_active();
    ++stats_.syncs;
    stats_.sync_latency.record(
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                  std::chrono::steady_clock::now() - started)
                                  .count()));
}

io::Task<void> Log::write_dirty(uint64_t from, absl::Status& status) {
    status = co_await write_tail(from, false);
}

bool Log::adaptive_dsync_fits(uint64_t end) const {
    return config_.sync_method == SyncMethod::adaptive
           && end - written_end_ <= limits::adaptive_dsync_bytes_max
           && align_up(end) - align_down(written_end_) <= limits::flush_write_bytes_max;
}

// One write and then one sync: the dsync_write method (a single RWF_DSYNC write when the flush
// fits in one) has no separate sync to overlap.
io::Task<absl::Status> Log::flush_once_locked(bool sync) {
    const uint64_t end = tail_->end();
    const Offset end_offset = next_offset_;
    const bool need_write = end > written_end_;
    const bool need_sync = sync && end > durable_end_;
    if (!need_write && !need_sync) {
        flushed_.notify_all();
        co_return absl::OkStatus();
    }
    absl::Status status;
    const bool dsync = need_sync && need_write
                       && config_.sync_method != SyncMethod::write_then_fdatasync
                       && align_up(end) - align_down(written_end_) <= limits::flush_write_bytes_max;
    const auto started = std::chrono::steady_clock::now();
    if (need_write) {
        status = co_await write_tail(written_end_, dsync);
    }
    if (status.ok() && need_sync && !dsync) {
        const auto sync_started = std::chrono::steady_clock::now();
        status = co_await datasync_active();
        ++stats_.syncs;
        stats_.sync_latency.record(
            static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                      std::chrono::steady_clock::now() - sync_started)
                                      .count()));
    } else if (status.ok() && dsync) {
        ++stats_.syncs;
        stats_.sync_latency.record(
            static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                      std::chrono::steady_clock::now() - started)
                                      .count()));
    }
    ++stats_.flushes;
    if (!status.ok()) {
        last_flush_error_ = absl::Status(
            status.code(), absl::StrCat("flush ", active().path(), ": ", status.message()));
        return_flush_error();
        co_return last_flush_error_;
    }
    last_flush_error_ = absl::OkStatus();
    written_end_ = end;
    written_offset_ = end_offset;
    prewritten_end_ = std::max(prewritten_end_, align_up(end));
    if (need_sync) {
        durable_end_ = end;
        durable_offset_ = end_offset;
        watermark_moved_.notify_all();
    }
    release_written_tail(end);
    flushed_.notify_all();
    co_return absl::OkStatus();
}

namespace {

io::Task<void> write_range(io::File& file, LogTail::WriteRange range, bool dsync,
                           absl::Status& status) {
    absl::Status result = co_await io::write_all(
        file, range.position, range.bytes, {.dsync = dsync, .fixed_index = range.fixed_index});
    if (!result.ok() && status.ok()) {
        status = result;
    }
}

}  // namespace

io::Task<absl::Status> Log::write_tail(uint64_t from, bool dsync) {
    const std::vector<LogTail::WriteRange> ranges =
        tail_->write_ranges(from, limits::flush_write_bytes_max);
    absl::Status status;
    if (ranges.size() == 1) {
        co_await write_range(active().file(), ranges[0], dsync, status);
        co_return status;
    }
    // Several chunks: all writes in flight at once, then one sync by the caller.
    io::TaskGroup writes;
    for (const LogTail::WriteRange& range : ranges) {
        writes.spawn(write_range(active().file(), range, dsync, status));
    }
    co_await writes.wait_idle();
    co_return status;
}

void Log::roll_back_unflushed(const absl::Status& cause) {
    // Nothing past durable_end_ was acknowledged as durable (under `always` an append waits for
    // its sync unless it asked for AppendWait::in_memory, Kafka's acks=1, which promises
    // nothing across a failure) and nothing past durable_offset_ was readable, so dropping it
    // loses nothing anyone was promised. The next flush rewrites the file from durable_end_.
    (void)cause;
    tail_->truncate(durable_end_);
    active().truncate_to(durable_end_, durable_offset_);
    producers_.forget_from(durable_offset_);
    next_offset_ = durable_offset_;
    written_end_ = durable_end_;
    written_offset_ = durable_offset_;
    ++rollback_generation_;
    ++stats_.rollbacks;
}

// Space reserved ahead of `from`: the zero-filling's reach, not the whole segment. A 1 GiB
// fallocate per partition would reserve a terabyte for a thousand partitions that hold a few
// megabytes each; zero-filling (which allocates the blocks it writes) runs ahead of the
// appender anyway, and past this reservation the file simply grows.
uint64_t Log::preallocation_bytes(uint64_t from) const {
    const uint64_t ahead = static_cast<uint64_t>(std::max<int64_t>(
        config_.prewrite_ahead_bytes, static_cast<int64_t>(limits::prewrite_chunk_bytes)));
    return std::min<uint64_t>(static_cast<uint64_t>(config_.segment_bytes) - from, ahead);
}

bool Log::prewrite_wanted() const {
    if (config_.prewrite_ahead_bytes <= 0 || closing_) {
        return false;
    }
    const uint64_t target = std::min<uint64_t>(
        config_.segment_bytes, align_up(tail_->end()) + config_.prewrite_ahead_bytes);
    return std::max(prewritten_end_, align_up(tail_->end())) + limits::prewrite_chunk_bytes
           <= target;
}

io::Task<void> Log::prewrite_step() {
    co_await flush_mutex_.lock();
    io::AsyncMutexUnlock unlock(flush_mutex_);
    if (!prewrite_wanted()) {
        co_return;
    }
    if (!zeros_) {
        zeros_ = io::BufferRef::allocate(limits::prewrite_chunk_bytes);
        std::fill(zeros_->data(), zeros_->data() + zeros_->size(), std::byte{0});
    }
    // Only ever beyond the appended data: data written later by a flush overwrites these zeros,
    // and the flush mutex keeps the two writes from racing for the same block.
    const uint64_t position = std::max(prewritten_end_, align_up(tail_->end()));
    absl::Status status = co_await io::write_all(active().file(), position,
                                                 {zeros_->data(), limits::prewrite_chunk_bytes});
    if (status.ok()) {
        prewritten_end_ = position + limits::prewrite_chunk_bytes;
        stats_.prewrite_bytes += limits::prewrite_chunk_bytes;
    } else {
        // Not worth failing anything for: appends into unwritten blocks are only slower.
        prewritten_end_ = config_.segment_bytes;
    }
    flushed_.notify_all();
}

io::Task<absl::Status> Log::wait_prewritten() {
    while (prewrite_wanted()) {
        work_.notify_all();
        co_await flushed_.wait();
    }
    co_return absl::OkStatus();
}

io::Task<absl::Status> Log::flush() {
    co_await flush_mutex_.lock();
    io::AsyncMutexUnlock unlock(flush_mutex_);
    co_return co_await flush_locked(true);
}

// ---------------------------------------------------------------------------------------------
// Reads

std::shared_ptr<Segment> Log::segment_for(Offset offset) const {
    auto it = std::upper_bound(
        segments_.begin(), segments_.end(), offset,
        [](Offset target, const std::shared_ptr<Segment>& s) { return target < s->base_offset(); });
    if (it == segments_.begin()) {
        return nullptr;
    }
    return *(it - 1);
}

std::shared_ptr<Segment> Log::segment_after(const Segment& segment) const {
    // By base offset, not identity: the cleaner may have swapped `segment` for its copy (or
    // retention removed it) while a read was in it.
    auto it = std::upper_bound(
        segments_.begin(), segments_.end(), segment.base_offset(),
        [](Offset target, const std::shared_ptr<Segment>& s) { return target < s->base_offset(); });
    return it == segments_.end() ? nullptr : *it;
}

// Reads byte ranges of one segment from wherever they are now: the active segment's tail in
// memory, or the file. The boundary moves while a read waits for the disk (the flusher
// releases written chunks, a roll seals the segment), so it is looked up again every time.
class Log::Reader {
public:
    Reader(const Log& log, std::shared_ptr<Segment> segment, size_t window_bytes)
        : log_(log), segment_(std::move(segment)), window_(segment_->file(), 0, window_bytes) {}

    Segment& segment() const { return *segment_; }

    // The end of the segment's data right now.
    uint64_t end() const { return in_tail() ? log_.tail_->end() : segment_->size_bytes(); }

    io::Task<absl::Status> copy(uint64_t position, std::span<std::byte> out) {
        while (!out.empty()) {
            const LogTail* memory_tail = tail();
            const uint64_t memory = memory_tail ? memory_tail->first_position() : UINT64_MAX;
            if (position >= memory) {
                memory_tail->copy_out(position, out);
                co_return absl::OkStatus();
            }
            const uint64_t count = std::min<uint64_t>(out.size(), memory - position);
            RL_CO_RETURN_IF_ERROR(co_await load(position, count, memory));
            const auto bytes = window_.bytes(position, count);
            std::copy(bytes.begin(), bytes.end(), out.begin());
            position += count;
            out = out.subspan(count);
        }
        co_return absl::OkStatus();
    }

    io::Task<absl::Status> views(uint64_t position, uint64_t length,
                                 std::vector<io::BufferView>& views) {
        while (length > 0) {
            const LogTail* memory_tail = tail();
            const uint64_t memory = memory_tail ? memory_tail->first_position() : UINT64_MAX;
            if (position >= memory) {
                memory_tail->append_views(position, length, views);
                co_return absl::OkStatus();
            }
            const uint64_t count = std::min<uint64_t>(length, memory - position);
            RL_CO_RETURN_IF_ERROR(co_await load(position, count, memory));
            window_.append_views(position, count, views);
            position += count;
            length -= count;
        }
        co_return absl::OkStatus();
    }

private:
    bool in_tail() const { return !segment_->sealed() && log_.segments_.back() == segment_; }

    // The memory holding the end of this segment, if any does: the active tail, or the tail
    // the last roll kept of the segment it sealed.
    const LogTail* tail() const {
        if (in_tail()) {
            return log_.tail_.get();
        }
        const bool previous = log_.previous_tail_ != nullptr
                              && !log_.previous_segment_.owner_before(segment_)
                              && !segment_.owner_before(log_.previous_segment_);
        return previous ? log_.previous_tail_.get() : nullptr;
    }

    io::Task<absl::Status> load(uint64_t position, uint64_t count, uint64_t memory) {
        window_.set_limit(std::min(memory, in_tail() ? memory : segment_->size_bytes()));
        RL_CO_RETURN_IF_ERROR(co_await window_.ensure(position, count));
        if (window_.available(position) < count) {
            co_return absl::DataLossError(
                absl::StrCat("short read of ", segment_->path(), " at ", position));
        }
        co_return absl::OkStatus();
    }

    const Log& log_;
    std::shared_ptr<Segment> segment_;
    FileWindow window_;
};

io::Task<absl::StatusOr<LogReadResult>> Log::read(Offset from, size_t bytes_max) {
    LogReadResult result;
    const Offset high_watermark = this->high_watermark();
    result.high_watermark = high_watermark;
    result.log_start_offset = log_start_offset();
    result.next_offset = from;
    if (from < log_start_offset() || from > high_watermark) {
        co_return absl::OutOfRangeError(absl::StrCat("offset ", from.value(), " is outside [",
                                                     log_start_offset().value(), ", ",
                                                     high_watermark.value(), "]"));
    }
    const size_t window_bytes = std::clamp<size_t>(
        align_up(bytes_max) + 2 * config_.index_interval_bytes, 64 * 1024, limits::batch_bytes_max);
    std::shared_ptr<Segment> segment = segment_for(from);
    while (segment != nullptr && from < high_watermark && result.views.empty()) {
        Reader reader(*this, segment, window_bytes);
        uint64_t position = segment->position_hint(from);
        while (position < reader.end()) {
            std::byte header[net::kafka::batch_header_bytes];
            RL_CO_RETURN_IF_ERROR(co_await reader.copy(position, header));
            absl::StatusOr<RecordBatchView> batch = RecordBatchView::parse_header(header);
            if (!batch.ok()) {
                co_return absl::DataLossError(absl::StrCat(segment->path(), " at ", position, ": ",
                                                           batch.status().message()));
            }
            const Offset base(batch->base_offset());
            const Offset last = base + batch->last_offset_delta();
            const uint64_t size = batch->size_bytes();
            if (base >= high_watermark) {
                break;
            }
            if (last >= from) {
                if (result.bytes > 0 && result.bytes + size > bytes_max) {
                    break;
                }
                RL_CO_RETURN_IF_ERROR(co_await reader.views(position, size, result.views));
                result.bytes += size;
                result.next_offset = last + 1;
                if (result.bytes >= bytes_max) {
                    break;
                }
            }
            position += size;
        }
        if (!result.views.empty()) {
            break;
        }
        // Nothing at or after `from` in this segment (it ends there, or compaction left a
        // gap): the next segment has it.
        segment = segment_after(*segment);
    }
    co_return result;
}

io::Task<absl::StatusOr<std::optional<Offset>>> Log::offset_for_timestamp(int64_t target_ms) {
    const Offset high_watermark = this->high_watermark();
    for (size_t i = 0; i < segments_.size(); ++i) {
        std::shared_ptr<Segment> segment = segments_[i];
        if (segment->max_timestamp() < target_ms) {
            continue;
        }
        Reader reader(*this, segment, 256 * 1024);
        uint64_t position = segment->position_hint_for_timestamp(target_ms);
        while (position < reader.end()) {
            std::byte header[net::kafka::batch_header_bytes];
            RL_CO_RETURN_IF_ERROR(co_await reader.copy(position, header));
            RL_CO_ASSIGN_OR_RETURN(RecordBatchView batch, RecordBatchView::parse_header(header));
            const Offset base(batch.base_offset());
            if (base >= high_watermark) {
                co_return std::nullopt;
            }
            if (batch.max_timestamp() >= target_ms) {
                if (batch.compression() != net::kafka::Compression::none) {
                    co_return base;  // records are compressed: the batch is as close as we get
                }
                std::vector<std::byte> bytes(batch.size_bytes());
                RL_CO_RETURN_IF_ERROR(co_await reader.copy(position, bytes));
                RL_CO_ASSIGN_OR_RETURN(RecordBatchView full, RecordBatchView::parse(bytes));
                std::optional<Offset> found;
                RL_CO_RETURN_IF_ERROR(
                    net::kafka::for_each_record(full, [&](const net::kafka::Record& record) {
                        if (!found && full.base_timestamp() + record.timestamp_delta >= target_ms) {
                            found = base + record.offset_delta;
                        }
                    }));
                co_return found.value_or(base);
            }
            position += batch.size_bytes();
        }
    }
    co_return std::nullopt;
}

std::optional<Log::TimestampAndOffset> Log::max_timestamp() const {
    std::optional<TimestampAndOffset> best;
    const Offset high_watermark = this->high_watermark();
    for (const auto& segment : segments_) {
        // A batch not yet readable (not yet durable under `always`) is not answered with.
        if (segment->max_timestamp() < 0 || segment->offset_of_max_timestamp() >= high_watermark) {
            continue;
        }
        if (!best || segment->max_timestamp() > best->timestamp_ms) {
            best = TimestampAndOffset{segment->max_timestamp(), segment->offset_of_max_timestamp()};
        }
    }
    return best;
}

// ---------------------------------------------------------------------------------------------
// Retention and lifecycle

uint64_t Log::size_bytes() const {
    uint64_t total = 0;
    for (const auto& segment : segments_) {
        total += segment->size_bytes();
    }
    return total;
}

std::vector<Offset> Log::segment_base_offsets() const {
    std::vector<Offset> bases;
    for (const auto& segment : segments_) {
        bases.push_back(segment->base_offset());
    }
    return bases;
}

io::Task<absl::Status> Log::enforce_retention() {
    co_await maintenance_mutex_.lock();
    io::AsyncMutexUnlock unlock(maintenance_mutex_);
    co_return co_await remove_retained(/*by_time=*/true);
}

io::Task<absl::Status> Log::remove_retained(bool by_time) {
    if (!config_.retention_deletes) {
        co_return absl::OkStatus();
    }
    const int64_t now = clock_.now_ms();
    bool removed = false;
    while (segments_.size() > 1) {
        const Segment& oldest = *segments_.front();
        const bool expired = by_time && config_.retention_ms >= 0 && oldest.max_timestamp() >= 0
                             && now - oldest.max_timestamp() > config_.retention_ms;
        const bool oversized =
            config_.retention_bytes >= 0
            && static_cast<int64_t>(size_bytes() - oldest.size_bytes()) >= config_.retention_bytes;
        if (!expired && !oversized) {
            break;
        }
        std::shared_ptr<Segment> victim = segments_.front();
        segments_.erase(segments_.begin());
        // Readers still holding the segment keep its descriptor; the names go now.
        if (!keep_as_spare(victim)) {
            RL_CO_RETURN_IF_ERROR(fs_.remove(victim->path()));
        }
        for (const std::string& index : {victim->offset_index_path(), victim->time_index_path()}) {
            absl::Status status = fs_.remove(index);
            if (!status.ok() && !absl::IsNotFound(status)) {
                co_return status;
            }
        }
        removed = true;
    }
    if (removed) {
        producers_.forget_before(log_start_offset());
        RL_CO_RETURN_IF_ERROR(co_await fs_.sync_dir(dir_));
    }
    co_return absl::OkStatus();
}

bool Log::keep_as_spare(std::shared_ptr<Segment>& victim) {
    // Only a file nobody reads any more (a read in flight holds its segment), only while
    // zero-filling is wanted at all, and only one at least half a segment long.
    if (victim.use_count() != 1 || spares_.size() >= spares_max || closing_
        || config_.prewrite_ahead_bytes <= 0) {
        return false;
    }
    absl::StatusOr<uint64_t> bytes = victim->file().size();
    if (!bytes.ok() || *bytes * 2 < static_cast<uint64_t>(config_.segment_bytes)) {
        return false;
    }
    const std::string path = segment_path(dir_, victim->base_offset(), SegmentFileKind::spare);
    if (!fs_.rename(victim->path(), path).ok()) {
        return false;
    }
    spares_.push_back(SpareFile{path, victim->release_file(), *bytes});
    return true;
}

// ---------------------------------------------------------------------------------------------
// Compaction

std::vector<std::shared_ptr<Segment>> Log::sealed_segments() const {
    return {segments_.begin(), segments_.end() - 1};
}

io::Task<absl::Status> Log::replace_segment(std::shared_ptr<Segment> old,
                                            std::shared_ptr<Segment> cleaned) {
    RL_ASSERT(cleaned->sealed());
    RL_ASSERT(cleaned->base_offset() == old->base_offset());
    RL_ASSERT(cleaned->next_offset() == old->next_offset());
    co_await maintenance_mutex_.lock();
    io::AsyncMutexUnlock unlock(maintenance_mutex_);
    const std::string cleaned_path = old->cleaned_path();
    const auto in_log = [&] {
        return std::find(segments_.begin(), segments_.end() - 1, old) != segments_.end() - 1;
    };
    if (!in_log()) {
        (void)co_await cleaned->file().close();
        (void)fs_.remove(cleaned_path);
        co_return absl::NotFoundError(absl::StrCat(old->path(), " left the log while cleaned"));
    }
    // Retention cannot take `old` meanwhile (it holds the maintenance mutex too), and reads and
    // appends go through open files, not names, so they are not disturbed by the renames.
    // 1. The old indexes go first, durably: an index of one version must never be read as
    //    describing the other (its positions would land inside batches). Without them,
    //    recovery rebuilds the indexes of whichever file holds the name.
    for (const std::string& index : {old->offset_index_path(), old->time_index_path()}) {
        absl::Status status = fs_.remove(index);
        if (!status.ok() && !absl::IsNotFound(status)) {
            co_return status;
        }
    }
    absl::Status status = co_await fs_.sync_dir(dir_);
    // 2. The atomic step: rename(2) replaces the name, so it holds the old file or the new.
    if (status.ok()) {
        status = fs_.rename(cleaned_path, old->path());
    }
    if (status.ok()) {
        status = co_await fs_.sync_dir(dir_);
    }
    if (!status.ok()) {
        (void)co_await cleaned->file().close();
        (void)fs_.remove(cleaned_path);
        co_return absl::Status(status.code(),
                               absl::StrCat("replace ", old->path(), ": ", status.message()));
    }
    // 3. Readers holding `old` keep its file open (unlinked now) and finish on it. A roll may
    //    have grown the list while the folder synced, so `old` is looked up again.
    const auto it = std::find(segments_.begin(), segments_.end() - 1, old);
    RL_ASSERT(it != segments_.end() - 1, "only retention removes segments, and it waited");
    *it = cleaned;
    // 4. Like a roll: if this fails, recovery rebuilds the indexes from the segment.
    status = co_await cleaned->write_indexes(fs_);
    if (!status.ok()) {
        std::fprintf(stderr, "ringlog: indexes of cleaned %s: %s (recovery will rebuild them)\n",
                     cleaned->path().c_str(), std::string(status.message()).c_str());
    }
    co_return absl::OkStatus();
}

io::Task<absl::Status> Log::close() {
    if (closed_) {
        co_return absl::OkStatus();
    }
    closing_ = true;
    work_.notify_all();
    co_await background_.wait_idle();
    absl::Status status;
    {
        co_await flush_mutex_.lock();
        io::AsyncMutexUnlock unlock(flush_mutex_);
        status = co_await flush_locked(true);
    }
    co_await background_.wait_idle();  // the seal of a roll that was under way
    for (const auto& segment : segments_) {
        absl::Status closed = co_await segment->file().close();
        if (status.ok()) {
            status = closed;
        }
    }
    for (SpareFile& spare : spares_) {
        (void)co_await spare.file->close();
        (void)fs_.remove(spare.path);  // the next open would delete it anyway
    }
    spares_.clear();
    if (status.ok()) {
        // Everything is durable and closed cleanly: the next open replays nothing.
        if (std::optional<ProducerSnapshotFile> snapshot = take_producer_snapshot()) {
            co_await write_producer_snapshot(std::move(*snapshot));
        }
    }
    closed_ = true;
    flushed_.notify_all();
    roll_done_.notify_all();
    watermark_moved_.notify_all();
    co_return status;
}

}  // namespace ringlog::core
