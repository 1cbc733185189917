// The log cleaner on the simulated file system, checked against a model of everything appended
// (offset -> key, value): after a clean every record read back is the one appended at its
// offset, offsets only grow, the newest record of every key is there, and nothing older than
// it remains in a sealed segment. Also: tombstones stay until delete.retention.ms (ManualClock),
// every codec is cleaned and recompressed, the active segment is left byte for byte, a crash
// at each file-system step of a clean leaves a consistent log, and reads running while segments
// are swapped see consistent data.
#include "core/log_cleaner.h"

#include <map>
#include <optional>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "core/segment_names.h"
#include "io/base/status_macros.h"
#include "io/sim_file_system.h"
#include "io/task_group.h"
#include "net/kafka/compression.h"
#include "tests/support/log_test_util.h"

namespace ringlog::core {
namespace {

using net::kafka::Compression;

struct Value {
    std::string key;
    std::optional<std::string> value;  // nullopt: a tombstone
};

// One record as read back.
struct ReadRecord {
    int64_t offset;
    std::string key;
    std::optional<std::string> value;
    Compression codec;
};

std::string text(std::span<const std::byte> bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// The uncompressed batch `bytes` with its records compressed by `codec`.
std::vector<std::byte> compressed(std::vector<std::byte> bytes, Compression codec) {
    if (codec == Compression::none) {
        return bytes;
    }
    const auto batch = *net::kafka::RecordBatchView::parse(bytes);
    const auto records = *net::kafka::compress(codec, batch.records_bytes());
    bytes.resize(net::kafka::batch_header_bytes);
    bytes.insert(bytes.end(), records.begin(), records.end());
    namespace field = net::kafka::batch_field;
    net::kafka::big_endian::store(bytes.data() + field::batch_length,
                                  static_cast<int32_t>(bytes.size() - 12));
    net::kafka::big_endian::store(bytes.data() + field::attributes, static_cast<int16_t>(codec));
    net::kafka::update_crc(bytes);
    return bytes;
}

// The records of a run of batches, decompressed.
std::vector<ReadRecord> records_of(std::span<const std::byte> bytes) {
    std::vector<ReadRecord> out;
    size_t position = 0;
    while (position < bytes.size()) {
        auto batch = net::kafka::RecordBatchView::parse(bytes.subspan(position));
        EXPECT_TRUE(batch.ok()) << batch.status();
        if (!batch.ok()) {
            break;
        }
        EXPECT_TRUE(batch->validate_crc().ok());
        auto records =
            net::kafka::decompress(batch->compression(), batch->records_bytes(), 64 * 1024 * 1024);
        EXPECT_TRUE(records.ok());
        net::kafka::RecordIterator iterator(*records, batch->records_count());
        net::kafka::Record record;
        while (iterator.next(record)) {
            out.push_back({batch->base_offset() + record.offset_delta, text(*record.key),
                           record.value ? std::optional(text(*record.value)) : std::nullopt,
                           batch->compression()});
        }
        EXPECT_TRUE(iterator.status().ok()) << iterator.status();
        position += batch->size_bytes();
    }
    return out;
}

// A fault seam on top of the simulated file system: the crash_at-th namespace operation
// (open, remove, rename, folder sync, ...) does not happen; the power goes first.
class CrashingFileSystem final : public io::FileSystem {
public:
    CrashingFileSystem(io::SimFileSystem& sim, io::CrashMode mode) : sim_(sim), mode_(mode) {}

    // Counts operations from now on; the crash_at-th (from 0) does not happen.
    void arm(int64_t crash_at) {
        crash_at_ = crash_at;
        count_ = 0;
    }

    bool crashed() const { return crashed_; }

    int64_t operations() const { return count_; }

    io::Task<absl::StatusOr<std::unique_ptr<io::File>>> open(std::string path,
                                                             io::OpenOptions options) override {
        if (absl::Status status = step(); !status.ok()) {
            co_return status;
        }
        co_return co_await sim_.open(std::move(path), options);
    }

    absl::Status make_dirs(const std::string& path) override {
        RL_RETURN_IF_ERROR(step());
        return sim_.make_dirs(path);
    }

    absl::StatusOr<std::vector<std::string>> list_dir(const std::string& path) override {
        RL_RETURN_IF_ERROR(step());
        return sim_.list_dir(path);
    }

    absl::Status remove(const std::string& path) override {
        RL_RETURN_IF_ERROR(step());
        return sim_.remove(path);
    }

    absl::Status remove_all(const std::string& path) override {
        RL_RETURN_IF_ERROR(step());
        return sim_.remove_all(path);
    }

    absl::Status rename(const std::string& from, const std::string& to) override {
        RL_RETURN_IF_ERROR(step());
        return sim_.rename(from, to);
    }

    io::Task<absl::Status> sync_dir(std::string path) override {
        RL_CO_RETURN_IF_ERROR(step());
        co_return co_await sim_.sync_dir(std::move(path));
    }

    bool exists(const std::string& path) override { return !crashed_ && sim_.exists(path); }

    bool in_memory(const std::string& path) override { return sim_.in_memory(path); }

private:
    absl::Status step() {
        if (!crashed_ && count_++ == crash_at_) {
            crashed_ = true;
            sim_.crash(mode_);
        }
        return crashed_ ? absl::UnavailableError("power lost") : absl::OkStatus();
    }

    io::SimFileSystem& sim_;
    int64_t crash_at_ = -1;
    io::CrashMode mode_;
    int64_t count_ = 0;
    bool crashed_ = false;
};

class LogCleanerTest : public ::testing::Test {
protected:
    LogConfig compact_config() {
        LogConfig config;
        config.segment_bytes = limits::segment_bytes_min;
        config.prewrite_ahead_bytes = 0;
        config.tail_bytes_max = 0;
        config.durability = Durability::always;
        config.retention_ms = -1;
        config.retention_deletes = false;
        config.compact = true;
        config.delete_retention_ms = 10'000;
        config.min_cleanable_dirty_ratio = 0.5;
        return config;
    }

    std::unique_ptr<Log> open(io::FileSystem& fs, LogConfig config) {
        auto log = reactor_->block_on(Log::open(fs, dir_, config, clock_));
        EXPECT_TRUE(log.ok()) << log.status();
        return log.ok() ? *std::move(log) : nullptr;
    }

    std::unique_ptr<Log> open(LogConfig config) { return open(fs_, config); }

    // Appends one batch of (key, value) records and notes them in the model.
    void append(Log& log, const std::vector<Value>& records, Compression codec = Compression::none,
                int64_t producer_id = -1) {
        net::kafka::BatchSpec spec;
        for (const Value& record : records) {
            net::kafka::RecordSpec r;
            r.key = record.key;
            r.value = record.value;
            r.timestamp = clock_.now_ms();
            spec.records.push_back(std::move(r));
        }
        spec.producer_id = producer_id;
        spec.producer_epoch = producer_id >= 0 ? 0 : -1;
        spec.base_sequence = producer_id >= 0 ? sequence_ : -1;
        sequence_ += static_cast<int32_t>(records.size());
        auto result =
            reactor_->block_on(log.append(compressed(net::kafka::build_record_batch(spec), codec)));
        ASSERT_TRUE(result.ok()) << result.status();
        for (size_t i = 0; i < records.size(); ++i) {
            model_[result->base_offset.value() + static_cast<int64_t>(i)] = records[i];
        }
    }

    // `count` updates over `keys` keys, `per_batch` records a batch; every tenth key gets a
    // tombstone at the end when `tombstones`.
    void fill(Log& log, int count, int keys, int per_batch, Compression codec = Compression::none,
              bool tombstones = false) {
        std::mt19937_64 random(7);
        std::vector<Value> batch;
        for (int i = 0; i < count; ++i) {
            batch.push_back({"key-" + std::to_string(random() % keys), "v" + std::to_string(i)});
            if (static_cast<int>(batch.size()) == per_batch) {
                append(log, batch, codec);
                batch.clear();
            }
        }
        if (tombstones) {
            for (int k = 0; k < keys; k += 10) {
                batch.push_back({"key-" + std::to_string(k), std::nullopt});
            }
        }
        if (!batch.empty()) {
            append(log, batch, codec);
        }
    }

    std::vector<ReadRecord> read_all(Log& log) {
        std::vector<ReadRecord> out;
        Offset from = log.log_start_offset();
        while (from < log.high_watermark()) {
            auto result = reactor_->block_on(log.read(from, 64 * 1024));
            EXPECT_TRUE(result.ok()) << result.status();
            if (!result.ok() || result->views.empty()) {
                break;
            }
            for (ReadRecord& record : records_of(testing::flatten(result->views))) {
                out.push_back(std::move(record));
            }
            from = result->next_offset;
        }
        return out;
    }

    // The newest offset of every key in the model.
    std::map<std::string, int64_t> newest() const {
        std::map<std::string, int64_t> out;
        for (const auto& [offset, record] : model_) {
            out[record.key] = offset;
        }
        return out;
    }

    // What holds after any clean, finished or not: each record is the one appended at its
    // offset, offsets grow, and the newest record of every key is there (unless it was an
    // expired tombstone, when `tombstones_may_go`).
    void expect_consistent(const std::vector<ReadRecord>& records, bool tombstones_may_go) {
        int64_t previous = -1;
        std::map<std::string, int64_t> seen;
        for (const ReadRecord& record : records) {
            EXPECT_GT(record.offset, previous);
            previous = record.offset;
            ASSERT_TRUE(model_.contains(record.offset)) << record.offset;
            EXPECT_EQ(model_.at(record.offset).key, record.key) << record.offset;
            EXPECT_EQ(model_.at(record.offset).value, record.value) << record.offset;
            seen[record.key] = record.offset;
        }
        for (const auto& [key, offset] : newest()) {
            if (tombstones_may_go && !model_.at(offset).value.has_value()) {
                continue;
            }
            EXPECT_EQ(seen[key], offset) << key;
        }
    }

    // After a finished clean: below the active segment, only newest records remain.
    void expect_compacted(Log& log, const std::vector<ReadRecord>& records) {
        const Offset active_base = log.segment_base_offsets().back();
        const auto latest = newest();
        for (const ReadRecord& record : records) {
            if (record.offset < active_base.value()) {
                EXPECT_EQ(latest.at(record.key), record.offset) << record.key;
            }
        }
    }

    void expect_no_leftovers() {
        const absl::StatusOr<std::vector<std::string>> names = fs_.list_dir(dir_);
        ASSERT_TRUE(names.ok());
        for (const std::string& name : *names) {
            EXPECT_FALSE(is_cleaned_segment_name(name)) << name;
        }
    }

    CleanResult clean(Log& log) {
        auto result = reactor_->block_on(clean_log(log, {}));
        EXPECT_TRUE(result.ok()) << result.status();
        return result.ok() ? *result : CleanResult{};
    }

    void close(Log& log) { ASSERT_TRUE(reactor_->block_on(log.close()).ok()); }

    std::unique_ptr<io::Reactor> reactor_ = testing::make_reactor();
    io::SimFileSystem fs_{io::SimFileSystem::seed_from_env(42)};
    ManualClock clock_{1'000'000};
    std::string dir_ = "/data/c-0";
    std::map<int64_t, Value> model_;
    int32_t sequence_ = 0;
};

TEST_F(LogCleanerTest, KeepsTheNewestValueOfEachKeyAtItsOriginalOffset) {
    auto log = open(compact_config());
    fill(*log, 20'000, 200, 10);
    ASSERT_GT(log->segment_count(), 5u);
    EXPECT_TRUE(needs_cleaning(*log, clock_.now_ms()));
    const uint64_t size_before = log->size_bytes();
    const CleanResult result = clean(*log);
    EXPECT_GT(result.segments_rewritten, 0u);
    EXPECT_GT(result.records_removed, 15'000u);
    EXPECT_LT(log->size_bytes(), size_before / 4);
    EXPECT_EQ(dirty_ratio(*log), 0.0);
    EXPECT_FALSE(needs_cleaning(*log, clock_.now_ms()));
    const auto records = read_all(*log);
    expect_consistent(records, false);
    expect_compacted(*log, records);

    // The same after a restart: the cleaned segments and their indexes are what is on disk.
    close(*log);
    log = open(compact_config());
    const auto reopened = read_all(*log);
    ASSERT_EQ(reopened.size(), records.size());
    expect_consistent(reopened, false);
    expect_compacted(*log, reopened);
    expect_no_leftovers();
    // Reads from any offset start at the next record that is left.
    auto middle = reactor_->block_on(log->read(Offset(10'000), 1024));
    ASSERT_TRUE(middle.ok());
    const auto from_middle = records_of(testing::flatten(middle->views));
    ASSERT_FALSE(from_middle.empty());
    EXPECT_GE(from_middle.back().offset, 10'000);
    close(*log);
}

TEST_F(LogCleanerTest, TombstonesStayUntilDeleteRetentionHasPassed) {
    auto log = open(compact_config());
    fill(*log, 5'000, 100, 20, Compression::none, true);
    // Seal the tombstones away from the active segment: one more update of another key.
    clock_.advance_ms(1);
    for (int i = 0; i < 400; ++i) {
        append(*log, {{"other-" + std::to_string(i), std::string(200, 'x')}});
    }
    clean(*log);
    auto records = read_all(*log);
    expect_consistent(records, false);
    int tombstones = 0;
    for (const ReadRecord& record : records) {
        tombstones += record.value.has_value() ? 0 : 1;
    }
    EXPECT_EQ(tombstones, 10);
    EXPECT_FALSE(needs_cleaning(*log, clock_.now_ms()));

    // The tombstones' batch has max timestamp 1'000'000: they may go once that is more than
    // delete.retention.ms ago.
    clock_.advance_ms(1'000'000 + compact_config().delete_retention_ms - clock_.now_ms());
    EXPECT_FALSE(needs_cleaning(*log, clock_.now_ms()));  // exactly at the horizon: not yet
    EXPECT_EQ(clean(*log).tombstones_removed, 0u);
    clock_.advance_ms(1);
    EXPECT_TRUE(needs_cleaning(*log, clock_.now_ms()));  // no new data, but tombstones expired
    const CleanResult result = clean(*log);
    EXPECT_EQ(result.tombstones_removed, 10u);
    records = read_all(*log);
    expect_consistent(records, true);
    for (const ReadRecord& record : records) {
        EXPECT_TRUE(record.value.has_value()) << record.key;
        EXPECT_NE(record.key, "key-0");  // its values went with its tombstone's predecessors
    }
    close(*log);
}

TEST_F(LogCleanerTest, CompressedBatchesAreCleanedAndRecompressedWithTheirCodec) {
    for (const Compression codec :
         {Compression::gzip, Compression::snappy, Compression::lz4, Compression::zstd}) {
        SCOPED_TRACE(static_cast<int>(codec));
        dir_ = "/data/codec-" + std::to_string(static_cast<int>(codec));
        model_.clear();
        auto log = open(compact_config());
        fill(*log, 20'000, 300, 50, codec);
        ASSERT_GT(log->segment_count(), 2u);
        const CleanResult result = clean(*log);
        EXPECT_GT(result.segments_rewritten, 0u);
        const auto records = read_all(*log);
        expect_consistent(records, false);
        expect_compacted(*log, records);
        for (const ReadRecord& record : records) {
            EXPECT_EQ(record.codec, codec);
        }
        close(*log);
    }
}

TEST_F(LogCleanerTest, TheActiveSegmentIsNeverRewrittenButSupersedesOlderRecords) {
    auto log = open(compact_config());
    fill(*log, 5'000, 50, 10);
    // Newer values of every key, all in the active segment.
    std::vector<Value> batch;
    for (int k = 0; k < 50; ++k) {
        batch.push_back({"key-" + std::to_string(k), "final"});
    }
    append(*log, batch);
    append(*log, batch);  // twice: the active segment holds duplicates, which must stay
    ASSERT_TRUE(reactor_->block_on(log->flush()).ok());
    const std::string active =
        segment_path(dir_, log->segment_base_offsets().back(), SegmentFileKind::log);
    const auto active_before = fs_.written_bytes(active);
    clean(*log);
    EXPECT_EQ(fs_.written_bytes(active), active_before);
    const auto records = read_all(*log);
    expect_consistent(records, false);
    // Every sealed record was superseded by the active segment: only the active's are left,
    // all of them, duplicates included.
    const int64_t active_base = log->segment_base_offsets().back().value();
    for (const ReadRecord& record : records) {
        EXPECT_GE(record.offset, active_base);
    }
    EXPECT_EQ(records.size(), model_.size() - static_cast<size_t>(active_base));
    close(*log);
}

TEST_F(LogCleanerTest, AnEmptiedBatchStaysAsAHeaderOnlyWhenItIsItsProducersLast) {
    auto log = open(compact_config());
    append(*log, {{"a", "1"}, {"b", "1"}}, Compression::none, 7);  // superseded; not the last
    append(*log, {{"a", "2"}, {"b", "2"}}, Compression::gzip, 7);  // superseded; the last of 7
    append(*log, {{"c", "1"}});                                    // no producer id
    append(*log, {{"c", "2"}});
    for (int i = 0; i < 400; ++i) {
        append(*log, {{"a", "3"}, {"b", "3"}, {"filler", std::string(200, 'f')}});
    }
    clean(*log);
    auto result = reactor_->block_on(log->read(Offset(0), 1 << 20));
    ASSERT_TRUE(result.ok());
    const auto bytes = testing::flatten(result->views);
    const auto first = *net::kafka::RecordBatchView::parse(bytes);
    // The first batch left is producer 7's last one, empty, uncompressed, CRC valid.
    EXPECT_EQ(first.base_offset(), 2);
    EXPECT_EQ(first.last_offset_delta(), 1);
    EXPECT_EQ(first.producer_id(), 7);
    EXPECT_EQ(first.base_sequence(), 2);
    EXPECT_EQ(first.records_count(), 0);
    EXPECT_EQ(first.compression(), Compression::none);
    EXPECT_TRUE(first.validate_crc().ok());
    const auto next =
        *net::kafka::RecordBatchView::parse(std::span(bytes).subspan(first.size_bytes()));
    EXPECT_EQ(next.base_offset(), 5);  // c's first value (offset 4) went without a trace
    expect_consistent(read_all(*log), false);
    close(*log);
}

TEST_F(LogCleanerTest, ACrashAtAnyStepLeavesAConsistentLog) {
    for (const io::CrashMode mode : {io::CrashMode::drop_unsynced, io::CrashMode::tear_unsynced}) {
        for (int64_t crash_at = 0;; ++crash_at) {
            SCOPED_TRACE(::testing::Message() << "crash at step " << crash_at);
            dir_ = "/data/crash-" + std::to_string(static_cast<int>(mode)) + "-"
                   + std::to_string(crash_at);
            model_.clear();
            {
                auto log = open(compact_config());
                fill(*log, 8'000, 100, 10, Compression::none, true);
                close(*log);
            }
            CrashingFileSystem crashing(fs_, mode);
            auto log = open(crashing, compact_config());
            ASSERT_NE(log, nullptr);
            crashing.arm(crash_at);
            (void)reactor_->block_on(clean_log(*log, {}));
            const bool crashed = crashing.crashed();
            (void)reactor_->block_on(log->close());
            log.reset();
            if (!crashed) {
                fs_.crash(mode);  // the power goes after a clean that finished
            }
            log = open(compact_config());
            ASSERT_NE(log, nullptr);
            const auto records = read_all(*log);
            expect_consistent(records, false);
            expect_no_leftovers();
            // And a clean after recovery finishes the job.
            clean(*log);
            const auto cleaned = read_all(*log);
            expect_consistent(cleaned, false);
            expect_compacted(*log, cleaned);
            close(*log);
            if (!crashed) {
                EXPECT_GT(crash_at, 15);  // a clean of several segments has many steps
                break;
            }
        }
    }
}

io::Task<void> yield_once(io::Reactor& reactor) {
    co_await reactor.yield();
}

// Reads the whole log over and over until `done`, checking each pass.
io::Task<void> keep_reading(Log& log, const bool& done, int& passes,
                            std::vector<std::vector<ReadRecord>>& seen) {
    while (!done) {
        std::vector<ReadRecord> pass;
        Offset from = log.log_start_offset();
        while (from < log.high_watermark()) {
            auto result = co_await log.read(from, 16 * 1024);
            if (!result.ok() || result->views.empty()) {
                ADD_FAILURE() << "read at " << from.value() << ": " << result.status();
                co_return;
            }
            for (ReadRecord& record : records_of(testing::flatten(result->views))) {
                pass.push_back(std::move(record));
            }
            from = result->next_offset;
        }
        seen.push_back(std::move(pass));
        ++passes;
    }
}

TEST_F(LogCleanerTest, ReadsDuringTheSwapsSeeConsistentData) {
    auto log = open(compact_config());
    fill(*log, 20'000, 200, 10, Compression::snappy);
    // Every file operation yields, so the reader runs between the cleaner's steps.
    fs_.set_yield([this] { return yield_once(*reactor_); });
    bool done = false;
    int passes = 0;
    std::vector<std::vector<ReadRecord>> seen;
    io::TaskGroup group;
    group.spawn(keep_reading(*log, done, passes, seen));
    auto result = reactor_->block_on(clean_log(*log, {}));
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_GT(result->segments_rewritten, 3u);
    done = true;
    reactor_->block_on(group.wait_idle());
    fs_.set_yield(nullptr);
    EXPECT_GT(passes, 0);
    for (const auto& pass : seen) {
        expect_consistent(pass, false);
    }
    close(*log);
}

}  // namespace
}  // namespace ringlog::core
