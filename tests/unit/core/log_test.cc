// Log on the simulated file system: offsets, reads from memory and disk, rolls, retention,
// timestamps, reopening, index rebuilds, and a randomized run checked against a model.
#include "core/log.h"

#include <map>
#include <random>

#include <gtest/gtest.h>

#include "core/segment_names.h"
#include "io/sim_file_system.h"
#include "tests/support/gated_file_system.h"
#include "tests/support/log_test_util.h"

namespace ringlog::core {
namespace {

using testing::flatten;
using testing::make_batch;
using testing::split_batches;

class LogTest : public ::testing::Test {
protected:
    LogConfig small_config() {
        LogConfig config;
        config.segment_bytes = 256 * 1024;
        config.prewrite_ahead_bytes = 0;
        config.tail_bytes_max = 0;  // force reads of written data to go to disk
        config.durability = Durability::always;
        config.retention_ms = -1;
        return config;
    }

    std::unique_ptr<Log> open(LogConfig config) {
        auto log = reactor_->block_on(Log::open(fs_, "/data/t-0", config, clock_));
        EXPECT_TRUE(log.ok()) << log.status();
        return log.ok() ? *std::move(log) : nullptr;
    }

    AppendResult append(Log& log, const std::vector<std::byte>& batch) {
        auto result = reactor_->block_on(log.append(batch));
        EXPECT_TRUE(result.ok()) << result.status();
        return result.ok() ? *result : AppendResult{};
    }

    // Reads everything from `from` to the high watermark, batch by batch.
    std::vector<testing::StoredBatch> read_all(Log& log, Offset from,
                                               size_t bytes_max = 64 * 1024) {
        std::vector<testing::StoredBatch> out;
        while (from < log.high_watermark()) {
            auto result = reactor_->block_on(log.read(from, bytes_max));
            EXPECT_TRUE(result.ok()) << result.status();
            if (!result.ok() || result->views.empty()) {
                break;
            }
            for (auto& batch : split_batches(flatten(result->views))) {
                out.push_back(std::move(batch));
            }
            from = result->next_offset;
        }
        return out;
    }

    void close(Log& log) { ASSERT_TRUE(reactor_->block_on(log.close()).ok()); }

    std::unique_ptr<io::Reactor> reactor_ = testing::make_reactor();
    io::SimFileSystem fs_{42};
    ManualClock clock_{1'000'000};
};

// --sync-method dsync: an acknowledging flush that fits one write is that one RWF_DSYNC write,
// with no fdatasync after it, and what it acknowledged survives a power loss; a flush too big
// for one write falls back to the writes and one fdatasync.
TEST_F(LogTest, TheDsyncMethodMakesAFlushDurableWithItsOneWrite) {
    LogConfig config = small_config();
    config.segment_bytes = 64 * 1024 * 1024;
    config.tail_bytes_max = 16 * 1024 * 1024;
    config.sync_method = SyncMethod::dsync_write;
    auto log = open(config);
    const io::SimStats before = fs_.stats();
    const auto small = testing::make_batch(1, 3, 1000);
    append(*log, small);
    EXPECT_GT(fs_.stats().dsync_writes, before.dsync_writes);
    EXPECT_EQ(fs_.stats().syncs, before.syncs);

    // Six 1 MiB records: one flush of more than flush_write_bytes_max.
    const auto big = testing::make_batch(2, 6, 1024 * 1024);
    ASSERT_GT(big.size(), limits::flush_write_bytes_max);
    const io::SimStats before_big = fs_.stats();
    append(*log, big);
    EXPECT_GT(fs_.stats().syncs, before_big.syncs);
    EXPECT_EQ(fs_.stats().dsync_writes, before_big.dsync_writes);

    fs_.crash(io::CrashMode::drop_unsynced);
    (void)reactor_->block_on(log->close());
    auto reopened = open(config);
    ASSERT_NE(reopened, nullptr);
    const auto batches = read_all(*reopened, Offset(0), 16 * 1024 * 1024);
    ASSERT_EQ(batches.size(), 2u);
    EXPECT_EQ(batches[0].as_produced, small);
    EXPECT_EQ(batches[1].as_produced, big);
    close(*reopened);
}

// SyncMethod::adaptive: a small lone flush is one dsync write; one bigger than
// adaptive_dsync_bytes_max is written and then fdatasynced. Both survive a power loss.
TEST_F(LogTest, TheAdaptiveMethodWritesSmallFlushesDsyncAndBigOnesThenSyncs) {
    LogConfig config = small_config();
    config.segment_bytes = 64 * 1024 * 1024;
    config.tail_bytes_max = 16 * 1024 * 1024;
    config.sync_method = SyncMethod::adaptive;
    auto log = open(config);
    const io::SimStats before = fs_.stats();
    const auto small = testing::make_batch(1, 3, 1000);
    append(*log, small);
    EXPECT_EQ(fs_.stats().dsync_writes, before.dsync_writes + 1);
    EXPECT_EQ(fs_.stats().syncs, before.syncs);

    const auto big = testing::make_batch(2, 4, 64 * 1024);
    ASSERT_GT(big.size(), limits::adaptive_dsync_bytes_max);
    const io::SimStats before_big = fs_.stats();
    append(*log, big);
    EXPECT_EQ(fs_.stats().syncs, before_big.syncs + 1);
    EXPECT_EQ(fs_.stats().dsync_writes, before_big.dsync_writes);

    fs_.crash(io::CrashMode::drop_unsynced);
    (void)reactor_->block_on(log->close());
    auto reopened = open(config);
    ASSERT_NE(reopened, nullptr);
    const auto batches = read_all(*reopened, Offset(0), 16 * 1024 * 1024);
    ASSERT_EQ(batches.size(), 2u);
    EXPECT_EQ(batches[0].as_produced, small);
    EXPECT_EQ(batches[1].as_produced, big);
    close(*reopened);
}

TEST_F(LogTest, AssignsConsecutiveOffsetsAndReadsBatchesBack) {
    auto log = open(small_config());
    std::vector<std::vector<std::byte>> batches;
    for (int i = 0; i < 20; ++i) {
        batches.push_back(make_batch(i, 1 + i % 5, 100));
        const AppendResult result = append(*log, batches.back());
        EXPECT_EQ(result.last_offset - result.base_offset, i % 5);
    }
    EXPECT_EQ(log->log_end_offset(), Offset(60));
    EXPECT_EQ(log->high_watermark(), Offset(60));
    const auto stored = read_all(*log, Offset(0));
    ASSERT_EQ(stored.size(), batches.size());
    int64_t expected_offset = 0;
    for (size_t i = 0; i < batches.size(); ++i) {
        EXPECT_EQ(stored[i].base_offset, expected_offset);
        EXPECT_EQ(stored[i].as_produced, batches[i]) << "batch " << i;
        expected_offset += 1 + i % 5;
    }
    close(*log);
}

TEST_F(LogTest, ReadFromTheMiddleOfABatchReturnsThatWholeBatch) {
    auto log = open(small_config());
    append(*log, make_batch(1, 10, 10));
    append(*log, make_batch(2, 10, 10));
    auto result = reactor_->block_on(log->read(Offset(13), 1 << 20));
    ASSERT_TRUE(result.ok());
    const auto stored = split_batches(flatten(result->views));
    ASSERT_EQ(stored.size(), 1u);
    EXPECT_EQ(stored[0].base_offset, 10);
    EXPECT_EQ(result->next_offset, Offset(20));
    close(*log);
}

TEST_F(LogTest, ReadReturnsAtLeastOneBatchEvenIfLargerThanTheLimit) {
    auto log = open(small_config());
    append(*log, make_batch(1, 10, 1000));
    append(*log, make_batch(2, 10, 1000));
    auto result = reactor_->block_on(log->read(Offset(0), 100));
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(split_batches(flatten(result->views)).size(), 1u);
    EXPECT_GT(result->bytes, 100u);
    close(*log);
}

TEST_F(LogTest, ReadsOutsideTheLogAreOutOfRange) {
    auto log = open(small_config());
    append(*log, make_batch(1, 5, 10));
    EXPECT_EQ(reactor_->block_on(log->read(Offset(6), 100)).status().code(),
              absl::StatusCode::kOutOfRange);
    auto at_end = reactor_->block_on(log->read(Offset(5), 100));
    ASSERT_TRUE(at_end.ok());
    EXPECT_TRUE(at_end->views.empty());
    close(*log);
}

TEST_F(LogTest, RejectsACorruptBatchAndChangesNothing) {
    auto log = open(small_config());
    append(*log, make_batch(1, 3, 10));
    auto bad = make_batch(2, 3, 10);
    bad[bad.size() - 1] ^= std::byte{0x40};
    auto result = reactor_->block_on(log->append(bad));
    EXPECT_EQ(result.status().code(), absl::StatusCode::kDataLoss);
    auto bad_magic = make_batch(3, 3, 10);
    bad_magic[16] = std::byte{1};
    EXPECT_FALSE(reactor_->block_on(log->append(bad_magic)).ok());
    std::vector<std::byte> truncated(make_batch(4, 3, 10));
    truncated.resize(truncated.size() - 5);
    EXPECT_FALSE(reactor_->block_on(log->append(truncated)).ok());
    EXPECT_EQ(log->log_end_offset(), Offset(3));
    EXPECT_EQ(read_all(*log, Offset(0)).size(), 1u);
    close(*log);
}

TEST_F(LogTest, RollsSegmentsBySizeAndReadsAcrossThem) {
    auto log = open(small_config());
    std::vector<std::vector<std::byte>> batches;
    for (int i = 0; i < 60; ++i) {
        batches.push_back(make_batch(i, 10, 1000));  // ~10 KiB each
        append(*log, batches.back());
    }
    EXPECT_GE(log->segment_count(), 3u);
    const auto bases = log->segment_base_offsets();
    for (size_t i = 1; i < bases.size(); ++i) {
        EXPECT_GT(bases[i], bases[i - 1]);
        EXPECT_EQ(bases[i].value() % 10, 0);  // segments start at batch boundaries
    }
    const auto stored = read_all(*log, Offset(0));
    ASSERT_EQ(stored.size(), batches.size());
    for (size_t i = 0; i < batches.size(); ++i) {
        EXPECT_EQ(stored[i].as_produced, batches[i]);
    }
    close(*log);
}

TEST_F(LogTest, RollsSegmentsByAge) {
    LogConfig config = small_config();
    config.segment_ms = 1000;
    auto log = open(config);
    append(*log, make_batch(1, 1, 10));
    append(*log, make_batch(2, 1, 10));
    EXPECT_EQ(log->segment_count(), 1u);
    clock_.advance_ms(1000);
    append(*log, make_batch(3, 1, 10));
    EXPECT_EQ(log->segment_count(), 2u);
    EXPECT_EQ(log->segment_base_offsets()[1], Offset(2));
    close(*log);
}

// A roll returns once the new segment takes appends; sealing the old one (its trim, indexes,
// producer snapshot, retention) follows behind. Here the seal is held where it opens the old
// segment's index file, as a slow disk would hold it: acknowledged appends go on meanwhile.
TEST_F(LogTest, AppendsGoOnWhileTheOldSegmentIsSealed) {
    testing::GatedFileSystem gated(fs_, [](const std::string& path) {
        return path.ends_with(".index") || path.ends_with(".timeindex");
    });
    auto opened = reactor_->block_on(Log::open(gated, "/data/t-0", small_config(), clock_));
    ASSERT_TRUE(opened.ok()) << opened.status();
    std::unique_ptr<Log> log = *std::move(opened);
    std::vector<std::vector<std::byte>> batches;
    while (log->segment_count() < 2) {
        ASSERT_LT(batches.size(), 100u) << "the log never rolled";
        batches.push_back(make_batch(static_cast<int>(batches.size()), 10, 1000));
        append(*log, batches.back());
    }
    ASSERT_EQ(gated.waiting(), 1);  // the seal, at the old segment's offset index
    for (int i = 0; i < 10; ++i) {
        batches.push_back(make_batch(static_cast<int>(batches.size()), 10, 1000));
        append(*log, batches.back());  // durable (`always`) while the seal waits
    }
    EXPECT_EQ(gated.waiting(), 1);
    EXPECT_EQ(log->high_watermark(), Offset(static_cast<int64_t>(batches.size()) * 10));
    const std::string old_index =
        segment_path("/data/t-0", Offset(0), SegmentFileKind::offset_index);
    EXPECT_FALSE(fs_.exists(old_index));
    const auto stored = read_all(*log, Offset(0));
    ASSERT_EQ(stored.size(), batches.size());
    for (size_t i = 0; i < batches.size(); ++i) {
        EXPECT_EQ(stored[i].as_produced, batches[i]);
    }

    gated.release();
    reactor_->block_on(log->wait_sealed());
    EXPECT_TRUE(fs_.exists(old_index));
    EXPECT_TRUE(fs_.exists(segment_path("/data/t-0", Offset(0), SegmentFileKind::time_index)));
    close(*log);
}

// Power lost while a seal waits: the old segment was synced before the switch, so recovery
// finds every acknowledged batch of both segments and rebuilds the indexes the seal never
// wrote.
TEST_F(LogTest, PowerLossDuringASealLosesNothingAcknowledged) {
    testing::GatedFileSystem gated(fs_, [](const std::string& path) {
        return path.ends_with(".index") || path.ends_with(".timeindex");
    });
    std::vector<std::vector<std::byte>> batches;
    {
        auto opened = reactor_->block_on(Log::open(gated, "/data/t-0", small_config(), clock_));
        ASSERT_TRUE(opened.ok()) << opened.status();
        std::unique_ptr<Log> log = *std::move(opened);
        for (int after_roll = 0; after_roll < 5;) {
            ASSERT_LT(batches.size(), 100u) << "the log never rolled";
            after_roll += log->segment_count() > 1 ? 1 : 0;
            batches.push_back(make_batch(static_cast<int>(batches.size()), 10, 1000));
            append(*log, batches.back());
        }
        ASSERT_EQ(gated.waiting(), 1);
        fs_.crash(io::CrashMode::tear_unsynced);
        gated.release();
        (void)reactor_->block_on(log->close());  // fails after the crash: the files are dead
    }
    auto log = open(small_config());
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(log->segment_count(), 2u);
    EXPECT_EQ(log->log_end_offset(), Offset(static_cast<int64_t>(batches.size()) * 10));
    const auto stored = read_all(*log, Offset(0));
    ASSERT_EQ(stored.size(), batches.size());
    for (size_t i = 0; i < batches.size(); ++i) {
        EXPECT_EQ(stored[i].as_produced, batches[i]);
    }
    EXPECT_TRUE(fs_.exists(segment_path("/data/t-0", Offset(0), SegmentFileKind::offset_index)));
    close(*log);
}

// Seals run in roll order, and retention runs inside them: a segment that retention removed
// while its own seal waited behind an earlier one is not given index files afterwards.
TEST_F(LogTest, ASegmentRetentionRemovedBeforeItsSealGetsNoIndexes) {
    testing::GatedFileSystem gated(fs_, [](const std::string& path) {
        return path.ends_with(".index") || path.ends_with(".timeindex");
    });
    LogConfig config = small_config();
    config.retention_bytes = 1;  // everything but the active segment goes
    auto opened = reactor_->block_on(Log::open(gated, "/data/t-0", config, clock_));
    ASSERT_TRUE(opened.ok()) << opened.status();
    std::unique_ptr<Log> log = *std::move(opened);
    for (int i = 0; log->segment_count() < 3; ++i) {
        ASSERT_LT(i, 200) << "the log never rolled twice";
        append(*log, make_batch(i, 10, 1000));
    }
    ASSERT_EQ(gated.waiting(), 1);  // the first seal holds the second one behind it
    const std::vector<Offset> bases = log->segment_base_offsets();
    gated.release();
    reactor_->block_on(log->wait_sealed());
    EXPECT_EQ(log->segment_count(), 1u);
    for (const Offset base : {bases[0], bases[1]}) {
        EXPECT_FALSE(fs_.exists(segment_path("/data/t-0", base, SegmentFileKind::log)));
        EXPECT_FALSE(fs_.exists(segment_path("/data/t-0", base, SegmentFileKind::offset_index)))
            << base.value();
        EXPECT_FALSE(fs_.exists(segment_path("/data/t-0", base, SegmentFileKind::time_index)))
            << base.value();
    }
    close(*log);
}

// A consumer a little behind the end when the log rolls reads the sealed segment from the
// memory it was written from, as it read it before the roll; only the segment before that one
// is read from the disk.
TEST_F(LogTest, TheSegmentSealedByTheLastRollIsReadFromMemory) {
    LogConfig config = small_config();
    config.tail_bytes_max = 1024 * 1024;  // more than a segment: the whole tail stays
    auto log = open(config);
    std::vector<std::vector<std::byte>> batches;
    const auto append_until_segments = [&](size_t count) {
        while (log->segment_count() < count) {
            ASSERT_LT(batches.size(), 200u) << "the log never rolled";
            batches.push_back(make_batch(static_cast<int>(batches.size()), 10, 1000));
            append(*log, batches.back());
        }
    };
    append_until_segments(2);
    const Offset second_base = log->segment_base_offsets()[1];
    uint64_t read_before = fs_.stats().bytes_read;
    auto stored = read_all(*log, Offset(0));
    ASSERT_EQ(stored.size(), batches.size());
    EXPECT_EQ(fs_.stats().bytes_read, read_before);  // the sealed segment, from memory

    append_until_segments(3);
    read_before = fs_.stats().bytes_read;
    stored = read_all(*log, second_base);
    ASSERT_FALSE(stored.empty());
    EXPECT_EQ(stored.front().base_offset, second_base.value());
    EXPECT_EQ(fs_.stats().bytes_read, read_before);  // the segment the last roll sealed

    stored = read_all(*log, Offset(0));
    ASSERT_EQ(stored.size(), batches.size());
    for (size_t i = 0; i < batches.size(); ++i) {
        EXPECT_EQ(stored[i].as_produced, batches[i]);
    }
    EXPECT_GT(fs_.stats().bytes_read, read_before);  // the first segment, from the disk
    close(*log);
}

// An append that has to wait before it is stored (for a roll, or for the disk to catch up)
// is counted with its wait; one that does not is not.
TEST_F(LogTest, AppendsThatWaitAreCountedAsStalls) {
    {
        auto log = open(small_config());
        append(*log, make_batch(0, 10, 1000));
        EXPECT_EQ(log->stats().append_stall.count(), 0u);
        int appends = 1;
        while (log->segment_count() < 2) {
            ASSERT_LT(appends, 100) << "the log never rolled";
            append(*log, make_batch(appends++, 10, 1000));
        }
        EXPECT_EQ(log->stats().append_stall.count(), 1u);  // the one that rolled
        close(*log);
    }
    LogConfig config = small_config();
    config.durability = Durability::none;
    config.dirty_bytes_max = 4096;  // every append after the first finds the disk behind
    auto log = reactor_->block_on(Log::open(fs_, "/data/t-1", config, clock_));
    ASSERT_TRUE(log.ok()) << log.status();
    append(**log, make_batch(0, 10, 1000));
    EXPECT_EQ((*log)->stats().append_stall.count(), 0u);
    append(**log, make_batch(1, 10, 1000));
    EXPECT_EQ((*log)->stats().append_stall.count(), 1u);
    close(**log);
}

TEST_F(LogTest, RetentionDeletesOldestSegmentsBySize) {
    LogConfig config = small_config();
    config.retention_bytes = 512 * 1024;
    auto log = open(config);
    for (int i = 0; i < 150; ++i) {
        append(*log, make_batch(i, 10, 1000));
    }
    const size_t before = log->segment_count();
    ASSERT_TRUE(reactor_->block_on(log->enforce_retention()).ok());
    EXPECT_LT(log->segment_count(), before);
    EXPECT_GE(log->size_bytes(), 512u * 1024);
    EXPECT_GT(log->log_start_offset(), Offset(0));
    EXPECT_EQ(reactor_->block_on(log->read(Offset(0), 100)).status().code(),
              absl::StatusCode::kOutOfRange);
    // What is left reads back from the new start.
    const auto stored = read_all(*log, log->log_start_offset());
    ASSERT_FALSE(stored.empty());
    EXPECT_EQ(stored.front().base_offset, log->log_start_offset().value());
    EXPECT_EQ(stored.back().base_offset, 1490);
    // The deleted segments' files are gone.
    auto names = fs_.list_dir("/data/t-0");
    ASSERT_TRUE(names.ok());
    EXPECT_EQ(std::count_if(names->begin(), names->end(),
                            [](const std::string& n) { return n.ends_with(".log"); }),
              static_cast<long>(log->segment_count()));
    close(*log);
}

TEST_F(LogTest, RetentionDeletesSegmentsOlderThanRetentionMs) {
    LogConfig config = small_config();
    config.retention_ms = 60'000;
    config.segment_ms = 1000;
    auto log = open(config);
    append(*log, make_batch(1, 1, 10, clock_.now_ms()));
    clock_.advance_ms(1000);
    append(*log, make_batch(2, 1, 10, clock_.now_ms()));
    clock_.advance_ms(1000);
    append(*log, make_batch(3, 1, 10, clock_.now_ms()));
    ASSERT_EQ(log->segment_count(), 3u);
    ASSERT_TRUE(reactor_->block_on(log->enforce_retention()).ok());
    EXPECT_EQ(log->segment_count(), 3u);  // nothing old enough yet
    clock_.advance_ms(58'500);            // now: first batch 60.5 s old, second 59.5 s
    ASSERT_TRUE(reactor_->block_on(log->enforce_retention()).ok());
    EXPECT_EQ(log->segment_count(), 2u);
    EXPECT_EQ(log->log_start_offset(), Offset(1));
    close(*log);
}

TEST_F(LogTest, FindsTheFirstOffsetAtOrAfterATimestamp) {
    auto log = open(small_config());
    for (int i = 0; i < 50; ++i) {
        append(*log, make_batch(i, 10, 500, 10'000 + i * 100));  // records at +0..+9 ms
    }
    auto exact = reactor_->block_on(log->offset_for_timestamp(10'000 + 20 * 100 + 5));
    ASSERT_TRUE(exact.ok());
    EXPECT_EQ(*exact, Offset(205));
    auto before_all = reactor_->block_on(log->offset_for_timestamp(0));
    ASSERT_TRUE(before_all.ok());
    EXPECT_EQ(*before_all, Offset(0));
    auto after_all = reactor_->block_on(log->offset_for_timestamp(1'000'000'000));
    ASSERT_TRUE(after_all.ok());
    EXPECT_FALSE(after_all->has_value());
    close(*log);
}

TEST_F(LogTest, ReopenRecoversEverything) {
    std::vector<std::vector<std::byte>> batches;
    {
        auto log = open(small_config());
        for (int i = 0; i < 40; ++i) {
            batches.push_back(make_batch(i, 5, 1000));
            append(*log, batches.back());
        }
        close(*log);
    }
    auto log = open(small_config());
    EXPECT_EQ(log->log_end_offset(), Offset(200));
    const auto stored = read_all(*log, Offset(0));
    ASSERT_EQ(stored.size(), batches.size());
    for (size_t i = 0; i < batches.size(); ++i) {
        EXPECT_EQ(stored[i].as_produced, batches[i]);
    }
    // And it keeps appending where it left off.
    EXPECT_EQ(append(*log, make_batch(99, 1, 10)).base_offset, Offset(200));
    close(*log);
}

TEST_F(LogTest, MissingOrDamagedIndexesAreRebuilt) {
    {
        auto log = open(small_config());
        for (int i = 0; i < 60; ++i) {
            append(*log, make_batch(i, 10, 1000));
        }
        ASSERT_GE(log->segment_count(), 3u);
        close(*log);
    }
    // Remove the first segment's offset index and damage the second's time index.
    ASSERT_TRUE(
        fs_.remove(segment_path("/data/t-0", Offset(0), SegmentFileKind::offset_index)).ok());
    auto names = fs_.list_dir("/data/t-0");
    ASSERT_TRUE(names.ok());
    std::string second_time_index;
    for (const auto& name : *names) {
        if (name.ends_with(".timeindex")
            && name != segment_file_name(Offset(0), SegmentFileKind::time_index)) {
            second_time_index = "/data/t-0/" + name;
            break;
        }
    }
    ASSERT_FALSE(second_time_index.empty());
    {
        auto file = reactor_->block_on(fs_.open(second_time_index, {.direct = false}));
        ASSERT_TRUE(file.ok());
        const std::byte junk[3] = {std::byte{1}, std::byte{2}, std::byte{3}};
        ASSERT_TRUE(reactor_->block_on(io::write_all(**file, 0, junk)).ok());
        ASSERT_TRUE(reactor_->block_on((*file)->close()).ok());
    }
    auto log = open(small_config());
    EXPECT_EQ(log->log_end_offset(), Offset(600));
    EXPECT_EQ(read_all(*log, Offset(0)).size(), 60u);
    EXPECT_TRUE(fs_.exists(segment_path("/data/t-0", Offset(0), SegmentFileKind::offset_index)));
    // Reading from an offset in the middle uses the rebuilt index.
    auto middle = reactor_->block_on(log->read(Offset(355), 1));
    ASSERT_TRUE(middle.ok());
    EXPECT_EQ(split_batches(flatten(middle->views))[0].base_offset, 350);
    close(*log);
}

TEST_F(LogTest, RecoveryCutsOffATornTail) {
    {
        auto log = open(small_config());
        for (int i = 0; i < 10; ++i) {
            append(*log, make_batch(i, 5, 100));
        }
        close(*log);
    }
    // Append garbage after the valid data, as a half-finished write would leave it.
    const std::string path = segment_path("/data/t-0", Offset(0), SegmentFileKind::log);
    uint64_t valid_end = 0;
    {
        auto log = open(small_config());
        valid_end = log->size_bytes();
        close(*log);
    }
    {
        auto file = reactor_->block_on(fs_.open(path, {.direct = false}));
        ASSERT_TRUE(file.ok());
        auto torn = make_batch(77, 5, 100);
        torn.resize(torn.size() / 2);
        ASSERT_TRUE(reactor_->block_on(io::write_all(**file, valid_end, torn)).ok());
        ASSERT_TRUE(reactor_->block_on((*file)->datasync()).ok());
        ASSERT_TRUE(reactor_->block_on((*file)->close()).ok());
    }
    auto log = open(small_config());
    EXPECT_EQ(log->log_end_offset(), Offset(50));
    EXPECT_EQ(log->size_bytes(), valid_end);
    EXPECT_GT(log->stats().recovered_truncated_bytes, 0u);
    EXPECT_EQ(append(*log, make_batch(11, 1, 10)).base_offset, Offset(50));
    EXPECT_EQ(read_all(*log, Offset(0)).size(), 11u);
    close(*log);
}

// Appends `count` small batches, recording the offsets it is given.
io::Task<void> append_batches(Log& log, int id, int count, std::vector<Offset>& offsets,
                              int& done) {
    for (int i = 0; i < count; ++i) {
        auto batch = make_batch(id * 1000 + i, 1, 100);
        auto result = co_await log.append(batch);
        RL_ASSERT(result.ok());
        offsets.push_back(result->base_offset);
    }
    ++done;
}

TEST_F(LogTest, ConcurrentAppendsShareFlushes) {
    auto log = open(small_config());
    constexpr int appenders = 16;
    constexpr int per_appender = 20;
    int done = 0;
    std::vector<Offset> offsets;
    io::TaskGroup group;
    for (int i = 0; i < appenders; ++i) {
        group.spawn(append_batches(*log, i, per_appender, offsets, done));
    }
    reactor_->block_on(group.wait_idle());
    EXPECT_EQ(done, appenders);
    std::sort(offsets.begin(), offsets.end());
    for (int i = 0; i < appenders * per_appender; ++i) {
        ASSERT_EQ(offsets[i], Offset(i));
    }
    // Group commit: far fewer syncs than appends.
    EXPECT_LT(log->stats().syncs, static_cast<uint64_t>(appenders * per_appender));
    close(*log);
}

// ListOffsets MAX_TIMESTAMP: the largest timestamp anywhere in the log, not the newest batch's.
TEST_F(LogTest, MaxTimestampIsTheLargestAndPointsAtItsBatch) {
    auto log = open(small_config());
    EXPECT_FALSE(log->max_timestamp().has_value());
    append(*log, make_batch(1, 2, 50, 5'000));  // offsets 0-1, timestamps 5000-5001
    append(*log, make_batch(2, 3, 50, 9'000));  // offsets 2-4, timestamps 9000-9002
    append(*log, make_batch(3, 1, 50, 7'000));  // offset 5, an older timestamp
    const auto found = log->max_timestamp();
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->timestamp_ms, 9'002);
    EXPECT_EQ(found->offset, Offset(2));
    close(*log);
}

// acks=1 under `always`: the append returns before its sync, and readers see it only once the
// flusher has made it durable (the high watermark is what is on disk).
TEST_F(LogTest, InMemoryAppendReturnsBeforeItIsDurable) {
    auto log = open(small_config());
    ASSERT_EQ(log->config().durability, Durability::always);
    auto result = reactor_->block_on(log->append(make_batch(1, 3, 50), AppendWait::in_memory));
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->base_offset, Offset(0));
    EXPECT_EQ(log->log_end_offset(), Offset(3));
    ASSERT_TRUE(reactor_->block_on(log->flush()).ok());
    EXPECT_EQ(log->high_watermark(), Offset(3));
    EXPECT_EQ(read_all(*log, Offset(0)).size(), 1u);
    close(*log);
}

io::Task<void> wait_for_watermark(Log& log, Offset target, bool& seen) {
    while (log.high_watermark() < target) {
        co_await log.watermark_moved().wait();
    }
    seen = true;
}

// Long-poll fetches wait on watermark_moved(): every durable append must signal it.
TEST_F(LogTest, WatermarkMovedWakesAWaiterWhenAnAppendBecomesReadable) {
    auto log = open(small_config());
    bool seen = false;
    io::TaskGroup waiter;
    waiter.spawn(wait_for_watermark(*log, Offset(2), seen));
    EXPECT_FALSE(seen);
    append(*log, make_batch(2, 2, 50));
    reactor_->block_on(waiter.wait_idle());
    EXPECT_TRUE(seen);
    close(*log);
}

// A random mix of appends, reads, rolls, reopenings and retention, checked against a map from
// offset to the batch that holds it.
TEST_F(LogTest, RandomizedOperationsMatchAModel) {
    const uint64_t seed = io::SimFileSystem::seed_from_env(std::random_device{}());
    SCOPED_TRACE("replay with RINGLOG_SEED=" + std::to_string(seed));
    std::mt19937_64 random(seed);
    LogConfig config = small_config();
    config.segment_bytes = 64 * 1024;
    config.tail_bytes_max = 16 * 1024;
    config.durability = static_cast<Durability>(random() % 3);
    config.retention_bytes = 128 * 1024;
    std::map<int64_t, std::vector<std::byte>> model;  // base offset -> batch as produced
    auto log = open(config);
    int64_t next = 0;
    for (int step = 0; step < 400; ++step) {
        const int action = random() % 100;
        if (action < 60) {
            auto batch = make_batch(step, 1 + random() % 8, random() % 2000);
            const AppendResult result = append(*log, batch);
            ASSERT_EQ(result.base_offset, Offset(next));
            model[next] = batch;
            next = result.last_offset.value() + 1;
        } else if (action < 90 && !model.empty()) {
            if (log->high_watermark() == log->log_start_offset()) {
                continue;
            }
            const int64_t from = log->log_start_offset().value()
                                 + random() % (log->high_watermark() - log->log_start_offset());
            auto result = reactor_->block_on(log->read(Offset(from), random() % 20000));
            ASSERT_TRUE(result.ok()) << result.status();
            auto it = std::prev(model.upper_bound(from));
            for (const auto& stored : split_batches(flatten(result->views))) {
                ASSERT_EQ(stored.base_offset, it->first);
                ASSERT_EQ(stored.as_produced, it->second);
                ++it;
            }
        } else if (action < 95) {
            close(*log);
            log = open(config);
            ASSERT_EQ(log->log_end_offset(), Offset(next));
        } else {
            ASSERT_TRUE(reactor_->block_on(log->enforce_retention()).ok());
            model.erase(model.begin(), model.lower_bound(log->log_start_offset().value()));
        }
    }
    close(*log);
}

}  // namespace
}  // namespace ringlog::core
