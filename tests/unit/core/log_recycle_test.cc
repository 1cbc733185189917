// Spare segment files: a segment retention removes becomes a later segment's file (its blocks
// already written), and recovery never mistakes the stale batches it still holds for data.
#include <map>
#include <random>

#include <gtest/gtest.h>

#include "core/log.h"
#include "core/segment_names.h"
#include "io/sim_file_system.h"
#include "tests/support/log_test_util.h"

namespace ringlog::core {
namespace {

using testing::make_batch;

constexpr char dir[] = "/data/recycle-0";

class LogRecycleTest : public ::testing::Test {
protected:
    static LogConfig config() {
        LogConfig config;
        config.segment_bytes = 256 * 1024;
        config.retention_bytes = 512 * 1024;
        config.retention_ms = -1;
        config.prewrite_ahead_bytes = 64 * 1024;
        config.tail_bytes_max = 0;  // reads of written data go to the files
        config.durability = Durability::always;
        return config;
    }

    std::unique_ptr<Log> open() {
        auto log = reactor_->block_on(Log::open(*fs_, dir, config(), clock_));
        EXPECT_TRUE(log.ok()) << log.status();
        return log.ok() ? *std::move(log) : nullptr;
    }

    // Appends one batch (acknowledged: durable) and records it by base offset.
    void append(Log& log, uint64_t seed) {
        auto batch = make_batch(seed, 1 + static_cast<int>(seed % 5), 2000 + seed % 3000);
        auto result = reactor_->block_on(log.append(batch));
        ASSERT_TRUE(result.ok()) << result.status();
        appended_[result->base_offset.value()] = std::move(batch);
        end_ = result->last_offset.value() + 1;
    }

    // Everything readable, by base offset.
    std::map<int64_t, std::vector<std::byte>> contents(Log& log) {
        auto batches = testing::readable_batches(*reactor_, log);
        EXPECT_TRUE(batches.ok()) << batches.status();
        return batches.ok() ? *std::move(batches) : std::map<int64_t, std::vector<std::byte>>{};
    }

    // What was appended from the log's start on.
    std::map<int64_t, std::vector<std::byte>> expected(const Log& log) const {
        return {appended_.lower_bound(log.log_start_offset().value()), appended_.end()};
    }

    size_t files_ending_with(std::string_view suffix) {
        auto names = fs_->list_dir(dir);
        EXPECT_TRUE(names.ok());
        return static_cast<size_t>(std::count_if(names->begin(), names->end(), [&](const auto& n) {
            return std::string_view(n).ends_with(suffix);
        }));
    }

    std::unique_ptr<io::Reactor> reactor_ = testing::make_reactor();
    std::unique_ptr<io::SimFileSystem> fs_ = std::make_unique<io::SimFileSystem>(11);
    ManualClock clock_{1'000'000};
    std::map<int64_t, std::vector<std::byte>> appended_;
    int64_t end_ = 0;  // the log end offset after the last acknowledged append
};

TEST_F(LogRecycleTest, RetainedSegmentFilesBecomeTheNextSegments) {
    auto log = open();
    for (uint64_t i = 0; i < 400; ++i) {
        append(*log, i);
    }
    EXPECT_GT(log->stats().recycled_segments, 0u);
    EXPECT_LE(files_ending_with(".log.spare"), 2u);
    EXPECT_EQ(files_ending_with(".log"), log->segment_count());
    // Retention ran at the rolls: the log stays near its limit, and serves exactly what was
    // appended since its start, though the files held older batches before.
    EXPECT_GT(log->log_start_offset(), Offset(0));
    EXPECT_LE(log->size_bytes(), 512u * 1024 + 2 * 256 * 1024);
    EXPECT_EQ(contents(*log), expected(*log));
    ASSERT_TRUE(reactor_->block_on(log->close()).ok());
    EXPECT_EQ(files_ending_with(".log.spare"), 0u);
    auto reopened = open();
    ASSERT_NE(reopened, nullptr);
    EXPECT_EQ(contents(*reopened), expected(*reopened));
    ASSERT_TRUE(reactor_->block_on(reopened->close()).ok());
}

// A log whose folder is in memory (tmpfs) writes no zeros ahead of its appender and keeps no
// spare files: there they cost a CPU copy and memory, and no unwritten extent is spared. The
// same appends on a device zero-fill and recycle.
TEST_F(LogRecycleTest, ALogInMemoryNeitherZeroFillsNorKeepsSpareFiles) {
    for (const bool in_memory : {false, true}) {
        SCOPED_TRACE(in_memory ? "in memory" : "on a device");
        fs_ = std::make_unique<io::SimFileSystem>(11);
        fs_->set_in_memory(in_memory);
        // Zero-filling: a reach of two 1 MiB chunks in a 4 MiB segment.
        LogConfig prewriting = config();
        prewriting.segment_bytes = 4 * 1024 * 1024;
        prewriting.prewrite_ahead_bytes = 2 * 1024 * 1024;
        auto fresh = reactor_->block_on(Log::open(*fs_, "/data/prewrite-0", prewriting, clock_));
        ASSERT_TRUE(fresh.ok()) << fresh.status();
        ASSERT_TRUE(reactor_->block_on((*fresh)->wait_prewritten()).ok());
        EXPECT_EQ((*fresh)->stats().prewrite_bytes == 0, in_memory);
        EXPECT_EQ((*fresh)->config().prewrite_ahead_bytes == 0, in_memory);
        ASSERT_TRUE(reactor_->block_on((*fresh)->close()).ok());
        // Spare files: the fixture's retention makes them on a device.
        appended_.clear();
        auto log = open();
        ASSERT_NE(log, nullptr);
        for (uint64_t i = 0; i < 400; ++i) {
            append(*log, i);
        }
        EXPECT_EQ(log->stats().recycled_segments == 0, in_memory);
        EXPECT_EQ(contents(*log), expected(*log));
        ASSERT_TRUE(reactor_->block_on(log->close()).ok());
    }
}

// A power loss right after the log moved into a recycled file (one batch in it, the old
// segment's batches behind), and at random points later: recovery finds exactly the
// acknowledged batches, and none of the stale ones comes back.
TEST_F(LogRecycleTest, RecoveryNeverRevivesTheStaleBatchesOfARecycledFile) {
    const uint64_t seed = io::SimFileSystem::seed_from_env(std::random_device{}());
    SCOPED_TRACE("replay with RINGLOG_SEED=" + std::to_string(seed));
    std::mt19937_64 random(seed);
    uint64_t next_seed = 0;
    for (int round = 0; round < 6; ++round) {
        auto log = open();
        ASSERT_NE(log, nullptr);
        // The previous round's acknowledged batches, all of them, and nothing else.
        EXPECT_EQ(contents(*log), expected(*log)) << "round " << round;
        ASSERT_EQ(log->log_end_offset().value(), end_) << "round " << round;
        // Even rounds stop at the first append into a recycled file, odd ones anywhere later.
        const bool stop_at_recycle = round % 2 == 0;
        const int appends = 400 + static_cast<int>(random() % 200);
        for (int i = 0; i < appends; ++i) {
            append(*log, next_seed++);
            if (stop_at_recycle && log->stats().recycled_segments > 0) {
                break;
            }
        }
        EXPECT_GT(log->stats().recycled_segments, 0u) << "round " << round;
        fs_->crash(round % 3 == 0 ? io::CrashMode::drop_unsynced : io::CrashMode::tear_unsynced);
        (void)reactor_->block_on(log->close());  // fails after the crash: the files are dead
    }
}

// The worst case for recovery: every batch exactly one 4 KiB block, so the old segment's
// batches start where the new one's end and each still has a valid CRC. Only their offsets,
// below the new segment's base, tell recovery to stop there.
TEST_F(LogRecycleTest, StaleBatchesRightBehindTheNewOnesAreNotRevived) {
    // The encoding's varints differ a little from seed to seed.
    const auto block_batch = [](uint64_t seed) {
        size_t value_bytes = 3900;
        while (make_batch(seed, 1, value_bytes).size() < 4096) {
            ++value_bytes;
        }
        return make_batch(seed, 1, value_bytes);
    };
    auto log = open();
    ASSERT_NE(log, nullptr);
    for (uint64_t i = 0; log->stats().recycled_segments == 0; ++i) {
        ASSERT_LT(i, 10'000u) << "no segment was ever recycled";
        auto batch = block_batch(i);
        ASSERT_EQ(batch.size(), 4096u);
        auto result = reactor_->block_on(log->append(batch));
        ASSERT_TRUE(result.ok()) << result.status();
        appended_[result->base_offset.value()] = std::move(batch);
        end_ = result->last_offset.value() + 1;
    }
    fs_->crash(io::CrashMode::drop_unsynced);
    (void)reactor_->block_on(log->close());
    auto reopened = open();
    ASSERT_NE(reopened, nullptr);
    EXPECT_EQ(reopened->log_end_offset().value(), end_);
    EXPECT_EQ(contents(*reopened), expected(*reopened));
    ASSERT_TRUE(reactor_->block_on(reopened->close()).ok());
}

}  // namespace
}  // namespace ringlog::core
