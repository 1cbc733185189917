// Idempotent appends through the Log on the simulated file system: retries answered with the
// original offsets and not stored, refusals that store nothing, concurrent appends judged in
// storage order across a roll, rollbacks of failed syncs, and the producer table recovered
// after a crash (replay without a snapshot), after a clean close and a roll (snapshot plus a
// bounded replay) and past a damaged snapshot. Also the producer id allocator across crashes.
#include <set>

#include <gtest/gtest.h>

#include "core/log.h"
#include "core/producer_ids.h"
#include "core/producer_snapshot.h"
#include "io/sim_file_system.h"
#include "io/task_group.h"
#include "tests/support/log_test_util.h"

namespace ringlog::core {
namespace {

constexpr const char* dir = "/data/t-0";

std::vector<std::byte> idempotent_batch(int64_t producer_id, int16_t epoch, int32_t sequence,
                                        int records, size_t value_bytes = 100) {
    net::kafka::BatchSpec spec;
    spec.base_timestamp = 1'000'000;
    spec.producer_id = producer_id;
    spec.producer_epoch = epoch;
    spec.base_sequence = sequence;
    for (int i = 0; i < records; ++i) {
        net::kafka::RecordSpec record;
        record.key = "p" + std::to_string(producer_id) + "-" + std::to_string(sequence + i);
        record.value = std::string(value_bytes, static_cast<char>('a' + (sequence + i) % 26));
        record.timestamp = 1'000'000 + i;
        spec.records.push_back(std::move(record));
    }
    return net::kafka::build_record_batch(spec);
}

class LogIdempotenceTest : public ::testing::Test {
protected:
    LogConfig config() {
        LogConfig config;
        config.segment_bytes = 256 * 1024;
        config.prewrite_ahead_bytes = 0;
        config.durability = Durability::always;
        config.retention_ms = -1;
        return config;
    }

    std::unique_ptr<Log> open(LogConfig log_config) {
        auto log = reactor_->block_on(Log::open(fs_, dir, log_config, clock_));
        EXPECT_TRUE(log.ok()) << log.status();
        return log.ok() ? *std::move(log) : nullptr;
    }

    std::unique_ptr<Log> open() { return open(config()); }

    AppendResult append(Log& log, const std::vector<std::byte>& batch) {
        auto result = reactor_->block_on(log.append(batch));
        EXPECT_TRUE(result.ok()) << result.status();
        return result.ok() ? *result : AppendResult{Offset(-2), Offset(-2)};
    }

    // Producer 7, epoch 0, `count` batches of 3 records from sequence `first`.
    void append_run(Log& log, int32_t first, int count) {
        for (int i = 0; i < count; ++i) {
            const AppendResult result = append(log, idempotent_batch(7, 0, first + 3 * i, 3));
            ASSERT_EQ(result.sequence, SequenceVerdict::accept);
        }
    }

    std::vector<std::string> snapshots() {
        std::vector<std::string> out;
        absl::StatusOr<std::vector<std::string>> names = fs_.list_dir(dir);
        EXPECT_TRUE(names.ok()) << names.status();
        for (const std::string& name : names.value_or(std::vector<std::string>{})) {
            if (parse_producer_snapshot_name(name)) {
                out.push_back(name);
            }
        }
        return out;
    }

    // Crashes the file system (the log's handles die) and disposes of the dead log.
    void crash(std::unique_ptr<Log>& log) {
        fs_.crash(io::CrashMode::drop_unsynced);
        (void)reactor_->block_on(log->close());
        log.reset();
    }

    void close(Log& log) { ASSERT_TRUE(reactor_->block_on(log.close()).ok()); }

    std::unique_ptr<io::Reactor> reactor_ = testing::make_reactor();
    io::SimFileSystem fs_{io::SimFileSystem::seed_from_env(7)};
    ManualClock clock_{1'000'000};
};

TEST_F(LogIdempotenceTest, ARetryIsAnsweredWithTheOriginalOffsetsAndNotStored) {
    auto log = open();
    append(*log, testing::make_batch(1, 2, 10));  // a plain batch first: offsets 0..1
    const auto first = idempotent_batch(7, 0, 0, 3);
    const auto second = idempotent_batch(7, 0, 3, 2);
    const AppendResult a = append(*log, first);
    const AppendResult b = append(*log, second);
    EXPECT_EQ(a.base_offset, Offset(2));
    EXPECT_EQ(b.base_offset, Offset(5));
    for (const auto* retry : {&first, &second}) {
        const AppendResult again = append(*log, *retry);
        EXPECT_EQ(again.sequence, SequenceVerdict::duplicate);
        EXPECT_EQ(again.base_offset, retry == &first ? a.base_offset : b.base_offset);
        EXPECT_EQ(again.last_offset, retry == &first ? a.last_offset : b.last_offset);
    }
    EXPECT_EQ(log->log_end_offset(), Offset(7));
    EXPECT_EQ(log->stats().duplicates, 2u);
    // Plain batches are never checked: the same bytes twice are stored twice.
    append(*log, testing::make_batch(1, 2, 10));
    append(*log, testing::make_batch(1, 2, 10));
    EXPECT_EQ(log->log_end_offset(), Offset(11));
    close(*log);
}

TEST_F(LogIdempotenceTest, RefusedBatchesStoreNothing) {
    auto log = open();
    append(*log, idempotent_batch(7, 1, 0, 3));
    const AppendResult gap = append(*log, idempotent_batch(7, 1, 5, 1));
    EXPECT_EQ(gap.sequence, SequenceVerdict::out_of_order);
    EXPECT_EQ(gap.base_offset, Offset(-1));
    EXPECT_EQ(append(*log, idempotent_batch(7, 0, 3, 1)).sequence, SequenceVerdict::invalid_epoch);
    EXPECT_EQ(log->log_end_offset(), Offset(3));
    // Two batches in one append: the second must continue the first.
    auto pair = idempotent_batch(7, 1, 3, 1);
    const auto bad_follower = idempotent_batch(7, 1, 9, 1);
    pair.insert(pair.end(), bad_follower.begin(), bad_follower.end());
    EXPECT_EQ(append(*log, pair).sequence, SequenceVerdict::out_of_order);
    EXPECT_EQ(log->log_end_offset(), Offset(3));
    auto good = idempotent_batch(7, 1, 3, 1);
    const auto follower = idempotent_batch(7, 1, 4, 2);
    good.insert(good.end(), follower.begin(), follower.end());
    const AppendResult both = append(*log, good);
    EXPECT_EQ(both.sequence, SequenceVerdict::accept);
    EXPECT_EQ(both.last_offset, Offset(5));
    EXPECT_EQ(log->producers().find(7)->newest().last_sequence, 5);
    close(*log);
}

// Five appends of one producer in flight at once, the first of which has to roll the segment
// first: they must be judged in the order they are stored, and all be accepted.
TEST_F(LogIdempotenceTest, ConcurrentAppendsAreJudgedInStorageOrderAcrossARoll) {
    auto log = open();
    // Fill the segment almost to the end with plain batches.
    while (log->segment_count() == 1
           && static_cast<int64_t>(log->size_bytes()) < config().segment_bytes - 20'000) {
        append(*log, testing::make_batch(3, 10, 1000));
    }
    ASSERT_EQ(log->segment_count(), 1u);
    std::vector<std::vector<std::byte>> batches;
    for (int i = 0; i < 5; ++i) {
        batches.push_back(idempotent_batch(7, 0, i * 10, 10, 1000));
    }
    std::vector<absl::StatusOr<AppendResult>> results(batches.size());
    io::TaskGroup group;
    for (size_t i = 0; i < batches.size(); ++i) {
        group.spawn([](Log& target, std::span<const std::byte> bytes,
                       absl::StatusOr<AppendResult>& out) -> io::Task<void> {
            out = co_await target.append(bytes);
        }(*log, batches[i], results[i]));
    }
    reactor_->block_on(group.wait_idle());
    EXPECT_EQ(log->segment_count(), 2u);
    Offset previous(-1);
    for (size_t i = 0; i < results.size(); ++i) {
        ASSERT_TRUE(results[i].ok()) << results[i].status();
        EXPECT_EQ(results[i]->sequence, SequenceVerdict::accept) << i;
        EXPECT_GT(results[i]->base_offset, previous);
        previous = results[i]->base_offset;
    }
    EXPECT_EQ(log->producers().find(7)->newest().last_sequence, 49);
    close(*log);
}

TEST_F(LogIdempotenceTest, AFailedSyncForgetsTheBatchSoTheRetryIsStored) {
    auto log = open();
    append_run(*log, 0, 2);  // sequences 0..5 at offsets 0..5
    fs_.set_faults({.fail_write_after = -1,
                    .fail_sync_after = 0,
                    .space_bytes = -1,
                    .short_write_probability = 0.0,
                    .read_error_probability = 0.0});
    const auto batch = idempotent_batch(7, 0, 6, 3);
    auto failed = reactor_->block_on(log->append(batch));
    EXPECT_FALSE(failed.ok());
    const AppendResult retried = append(*log, batch);
    EXPECT_EQ(retried.sequence, SequenceVerdict::accept);
    EXPECT_EQ(retried.base_offset, Offset(6));
    EXPECT_EQ(append(*log, batch).sequence, SequenceVerdict::duplicate);
    close(*log);
}

TEST_F(LogIdempotenceTest, AfterACrashTheTableIsReplayedFromTheLog) {
    auto log = open();
    append_run(*log, 0, 4);  // sequences 0..11 at offsets 0..11, durable (`always`)
    const auto last = idempotent_batch(7, 0, 9, 3);
    EXPECT_TRUE(snapshots().empty());  // nothing rolled or closed yet
    crash(log);

    log = open();
    EXPECT_EQ(log->stats().producer_batches_replayed, 4u);
    const AppendResult again = append(*log, last);
    EXPECT_EQ(again.sequence, SequenceVerdict::duplicate);
    EXPECT_EQ(again.base_offset, Offset(9));
    EXPECT_EQ(append(*log, idempotent_batch(7, 0, 13, 1)).sequence, SequenceVerdict::out_of_order);
    EXPECT_EQ(append(*log, idempotent_batch(7, 0, 12, 1)).sequence, SequenceVerdict::accept);
    EXPECT_EQ(log->log_end_offset(), Offset(13));
    close(*log);
}

TEST_F(LogIdempotenceTest, ACleanCloseLeavesASnapshotAndNothingToReplay) {
    auto log = open();
    append_run(*log, 0, 3);
    close(*log);
    EXPECT_EQ(snapshots(), std::vector<std::string>{producer_snapshot_name(Offset(9))});
    log = open();
    EXPECT_EQ(log->stats().producer_batches_replayed, 0u);
    EXPECT_EQ(append(*log, idempotent_batch(7, 0, 6, 3)).sequence, SequenceVerdict::duplicate);
    close(*log);
}

TEST_F(LogIdempotenceTest, ARollSnapshotBoundsTheReplayToTheActiveSegment) {
    LogConfig small = config();
    auto log = open(small);
    int32_t sequence = 0;
    // Batches of ~10 KB until the log has rolled twice, then two more.
    while (log->segment_count() < 3) {
        ASSERT_EQ(append(*log, idempotent_batch(7, 0, sequence, 10, 1000)).sequence,
                  SequenceVerdict::accept);
        sequence += 10;
    }
    const Offset active_base = log->segment_base_offsets().back();
    append(*log, idempotent_batch(7, 0, sequence, 10, 1000));
    append(*log, idempotent_batch(7, 0, sequence + 10, 10, 1000));
    const auto last = idempotent_batch(7, 0, sequence + 10, 10, 1000);
    sequence += 20;
    // The two newest roll snapshots are kept.
    EXPECT_EQ(snapshots().size(), 2u);
    EXPECT_EQ(snapshots().back(), producer_snapshot_name(active_base));
    crash(log);

    log = open(small);
    // The batch that rolled plus the two after it: the active segment only.
    EXPECT_EQ(log->stats().producer_batches_replayed, 3u);
    EXPECT_EQ(append(*log, last).sequence, SequenceVerdict::duplicate);
    EXPECT_EQ(append(*log, idempotent_batch(7, 0, sequence, 1)).sequence, SequenceVerdict::accept);
    close(*log);
}

TEST_F(LogIdempotenceTest, ADamagedSnapshotIsRemovedAndTheReplayStartsFurtherBack) {
    auto log = open();
    append_run(*log, 0, 2);
    close(*log);
    log = open();
    append_run(*log, 6, 2);
    close(*log);
    ASSERT_EQ(snapshots().size(), 2u);  // at offsets 6 and 12
    const std::string newest = std::string(dir) + "/" + producer_snapshot_name(Offset(12));
    auto bytes = fs_.written_bytes(newest);
    bytes[bytes.size() / 2] ^= std::byte{1};
    ASSERT_TRUE(reactor_->block_on(io::write_whole_file(fs_, newest, bytes)).ok());

    log = open();
    EXPECT_EQ(log->stats().producer_batches_replayed, 2u);  // from offset 6
    EXPECT_EQ(snapshots(), std::vector<std::string>{producer_snapshot_name(Offset(6))});
    EXPECT_EQ(append(*log, idempotent_batch(7, 0, 9, 3)).sequence, SequenceVerdict::duplicate);
    EXPECT_EQ(append(*log, idempotent_batch(7, 0, 12, 3)).sequence, SequenceVerdict::accept);
    close(*log);
}

TEST_F(LogIdempotenceTest, LogsWithoutIdempotentProducersWriteNoSnapshots) {
    auto log = open();
    append(*log, testing::make_batch(1, 3, 10));
    close(*log);
    EXPECT_TRUE(snapshots().empty());
}

TEST(ProducerIds, AreUniqueAcrossReopensAndCrashes) {
    auto reactor = testing::make_reactor();
    io::SimFileSystem fs(3);
    ASSERT_TRUE(fs.make_dirs("/data").ok());
    std::set<int64_t> seen;
    int64_t highest = -1;
    for (int run = 0; run < 4; ++run) {
        ProducerIds ids(fs, "/data", 10);
        for (int i = 0; i < 15; ++i) {
            auto id = reactor->block_on(ids.next());
            ASSERT_TRUE(id.ok()) << id.status();
            EXPECT_TRUE(seen.insert(*id).second) << "id " << *id << " handed out twice";
            EXPECT_GT(*id, highest);
            highest = *id;
        }
        if (run % 2 == 1) {
            fs.crash(io::CrashMode::drop_unsynced);
        }
    }
    EXPECT_EQ(seen.size(), 60u);
}

TEST(ProducerIds, ADamagedFileRefusesIds) {
    auto reactor = testing::make_reactor();
    io::SimFileSystem fs(3);
    ASSERT_TRUE(fs.make_dirs("/data").ok());
    {
        ProducerIds ids(fs, "/data", 10);
        ASSERT_TRUE(reactor->block_on(ids.next()).ok());
    }
    auto bytes = fs.written_bytes("/data/producer_ids");
    bytes[0] ^= std::byte{1};
    ASSERT_TRUE(reactor->block_on(io::write_whole_file(fs, "/data/producer_ids", bytes)).ok());
    ProducerIds ids(fs, "/data", 10);
    EXPECT_EQ(reactor->block_on(ids.next()).status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace ringlog::core
