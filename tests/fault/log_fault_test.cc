// The log under injected faults on the simulated file system: no space, EIO on write and sync,
// short writes, and simulated power loss at random moments (everything never synced is dropped
// or torn). The promise checked every time: an acknowledged append under `always` survives,
// byte for byte, and nothing partial is ever read. Every test runs under each sync method: a
// write then an fdatasync (overlapped with the next write), a single RWF_DSYNC write, and the
// adaptive choice between the two.
#include <chrono>
#include <functional>
#include <map>
#include <random>

#include <gtest/gtest.h>

#include "core/log.h"
#include "io/sim_file_system.h"
#include "io/task_group.h"
#include "tests/support/log_test_util.h"

namespace ringlog::core {
namespace {

using testing::make_batch;

constexpr char dir[] = "/data/faulty-0";

class LogFaultTest : public ::testing::TestWithParam<SyncMethod> {
protected:
    LogConfig config() const {
        LogConfig config;
        config.sync_method = GetParam();
        config.segment_bytes = 256 * 1024;
        config.prewrite_ahead_bytes = 0;
        config.tail_bytes_max = 32 * 1024;
        config.durability = Durability::always;
        config.retention_ms = -1;
        return config;
    }

    std::unique_ptr<Log> open() {
        auto log = reactor_->block_on(Log::open(*fs_, dir, config(), clock_));
        EXPECT_TRUE(log.ok()) << log.status();
        return log.ok() ? *std::move(log) : nullptr;
    }

    // Everything readable, as base offset -> batch as produced.
    std::map<int64_t, std::vector<std::byte>> contents(Log& log) {
        auto batches = testing::readable_batches(*reactor_, log);
        EXPECT_TRUE(batches.ok()) << batches.status();
        return batches.ok() ? *std::move(batches) : std::map<int64_t, std::vector<std::byte>>{};
    }

    // The file system's syncs, however made: an fdatasync or a dsync write.
    uint64_t durable_writes() const { return fs_->stats().syncs + fs_->stats().dsync_writes; }

    std::unique_ptr<io::Reactor> reactor_ = testing::make_reactor();
    std::unique_ptr<io::SimFileSystem> fs_ = std::make_unique<io::SimFileSystem>(7);
    ManualClock clock_{1'000'000};
};

TEST_P(LogFaultTest, NoSpaceIsAClearErrorAndTheLogResumesWhenSpaceReturns) {
    auto log = open();
    std::map<int64_t, std::vector<std::byte>> acknowledged;
    // Room for the first segment and a little more: the roll to a second one cannot allocate.
    fs_->set_space_bytes(static_cast<int64_t>(fs_->allocated_bytes()) + 64 * 1024);
    absl::Status failure;
    for (int i = 0; i < 100 && failure.ok(); ++i) {
        auto batch = make_batch(i, 4, 1000);
        auto result = reactor_->block_on(log->append(batch));
        if (result.ok()) {
            acknowledged[result->base_offset.value()] = batch;
        } else {
            failure = result.status();
        }
    }
    ASSERT_FALSE(failure.ok()) << "space never ran out";
    EXPECT_EQ(failure.code(), absl::StatusCode::kResourceExhausted) << failure;
    EXPECT_NE(failure.message().find("space"), std::string::npos) << failure;
    EXPECT_EQ(contents(*log), acknowledged);

    fs_->set_space_bytes(-1);
    for (int i = 100; i < 150; ++i) {
        auto batch = make_batch(i, 4, 1000);
        auto result = reactor_->block_on(log->append(batch));
        ASSERT_TRUE(result.ok()) << result.status();
        acknowledged[result->base_offset.value()] = batch;
    }
    EXPECT_EQ(contents(*log), acknowledged);
    ASSERT_TRUE(reactor_->block_on(log->close()).ok());
    fs_->crash(io::CrashMode::drop_unsynced);
    auto reopened = open();
    EXPECT_EQ(contents(*reopened), acknowledged);
    ASSERT_TRUE(reactor_->block_on(reopened->close()).ok());
}

TEST_P(LogFaultTest, EioOnSyncMeansTheAppendIsNotAcknowledged) {
    auto log = open();
    std::map<int64_t, std::vector<std::byte>> acknowledged;
    for (int i = 0; i < 5; ++i) {
        auto batch = make_batch(i, 2, 100);
        auto result = reactor_->block_on(log->append(batch));
        ASSERT_TRUE(result.ok());
        acknowledged[result->base_offset.value()] = batch;
    }
    io::FaultPlan faults;
    faults.fail_sync_after = 0;  // the very next sync fails
    fs_->set_faults(faults);
    auto failed = reactor_->block_on(log->append(make_batch(50, 2, 100)));
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.status().code(), absl::StatusCode::kDataLoss) << failed.status();
    EXPECT_EQ(log->log_end_offset(), Offset(10));  // rolled back: offsets 10-11 were never given
    EXPECT_EQ(contents(*log), acknowledged);

    fs_->set_faults({});
    auto batch = make_batch(51, 2, 100);
    auto result = reactor_->block_on(log->append(batch));
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->base_offset, Offset(10));
    acknowledged[10] = batch;
    EXPECT_EQ(contents(*log), acknowledged);
    ASSERT_TRUE(reactor_->block_on(log->close()).ok());
    fs_->crash(io::CrashMode::tear_unsynced);
    auto reopened = open();
    EXPECT_EQ(contents(*reopened), acknowledged);
    ASSERT_TRUE(reactor_->block_on(reopened->close()).ok());
}

TEST_P(LogFaultTest, EioOnWriteMeansTheAppendIsNotAcknowledged) {
    auto log = open();
    auto first = make_batch(1, 3, 100);
    ASSERT_TRUE(reactor_->block_on(log->append(first)).ok());
    io::FaultPlan faults;
    faults.fail_write_after = 0;
    fs_->set_faults(faults);
    EXPECT_FALSE(reactor_->block_on(log->append(make_batch(2, 3, 100))).ok());
    fs_->set_faults({});
    auto second = make_batch(3, 3, 100);
    auto result = reactor_->block_on(log->append(second));
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(result->base_offset, Offset(3));
    const std::map<int64_t, std::vector<std::byte>> expected{{0, first}, {3, second}};
    EXPECT_EQ(contents(*log), expected);
    ASSERT_TRUE(reactor_->block_on(log->close()).ok());
}

TEST_P(LogFaultTest, ShortWritesAreCompleted) {
    io::FaultPlan faults;
    faults.short_write_probability = 0.5;
    fs_->set_faults(faults);
    auto log = open();
    std::map<int64_t, std::vector<std::byte>> acknowledged;
    for (int i = 0; i < 60; ++i) {
        auto batch = make_batch(i, 8, 1500);
        auto result = reactor_->block_on(log->append(batch));
        ASSERT_TRUE(result.ok()) << result.status();
        acknowledged[result->base_offset.value()] = batch;
    }
    ASSERT_TRUE(reactor_->block_on(log->close()).ok());
    fs_->crash(io::CrashMode::drop_unsynced);
    fs_->set_faults({});
    auto reopened = open();
    EXPECT_EQ(contents(*reopened), acknowledged);
    ASSERT_TRUE(reactor_->block_on(reopened->close()).ok());
}

// Waits (on the loop, never by sleeping the thread) until `done` holds or ten seconds pass.
io::Task<bool> wait_until(std::function<bool()> done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) {
            co_return false;
        }
        co_await io::Reactor::current().sleep_for(std::chrono::milliseconds(1));
    }
    co_return true;
}

TEST_P(LogFaultTest, IntervalPolicySyncsOnItsTimer) {
    LogConfig interval = config();
    interval.durability = Durability::interval;
    interval.flush_interval_ms = 2;
    auto log = *reactor_->block_on(Log::open(*fs_, dir, interval, clock_));
    auto batch = make_batch(1, 3, 100);
    auto result = reactor_->block_on(log->append(batch));
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(log->high_watermark(), Offset(3));  // acknowledged and readable at once
    const uint64_t syncs_before = durable_writes();
    // Nobody asks for a flush: the timer alone must make the append durable.
    ASSERT_TRUE(reactor_->block_on(
        wait_until([&] { return durable_writes() > syncs_before && log->stats().syncs > 0; })));
    fs_->crash(io::CrashMode::drop_unsynced);
    (void)reactor_->block_on(log->close());
    auto reopened = open();
    const std::map<int64_t, std::vector<std::byte>> expected{{0, batch}};
    EXPECT_EQ(contents(*reopened), expected);
    ASSERT_TRUE(reactor_->block_on(reopened->close()).ok());
}

TEST_P(LogFaultTest, NonePolicySyncsOnClose) {
    LogConfig none = config();
    none.durability = Durability::none;
    auto log = *reactor_->block_on(Log::open(*fs_, dir, none, clock_));
    std::map<int64_t, std::vector<std::byte>> appended;
    for (int i = 0; i < 20; ++i) {
        auto batch = make_batch(i, 2, 500);
        auto result = reactor_->block_on(log->append(batch));
        ASSERT_TRUE(result.ok());
        appended[result->base_offset.value()] = batch;
    }
    EXPECT_EQ(contents(*log), appended);
    ASSERT_TRUE(reactor_->block_on(log->close()).ok());
    fs_->crash(io::CrashMode::drop_unsynced);
    auto reopened = open();
    EXPECT_EQ(contents(*reopened), appended);
    ASSERT_TRUE(reactor_->block_on(reopened->close()).ok());
}

// Appends one batch and records it as acknowledged if the log says so before the crash.
io::Task<void> append_and_record(Log& log, std::vector<std::byte> batch,
                                 std::map<int64_t, std::vector<std::byte>>& acknowledged,
                                 const bool& crashed) {
    auto result = co_await log.append(batch);
    if (result.ok() && !crashed) {
        acknowledged[result->base_offset.value()] = std::move(batch);
    }
}

// Lets the appenders and the flusher run for `turns` loop turns, then pulls the plug.
io::Task<void> crash_after(io::SimFileSystem& fs, int turns, bool& crashed, uint64_t mode) {
    for (int i = 0; i < turns; ++i) {
        co_await io::Reactor::current().yield();
    }
    crashed = true;
    fs.crash(mode % 2 == 0 ? io::CrashMode::drop_unsynced : io::CrashMode::tear_unsynced);
}

// Many appenders, a crash after a random number of loop turns, recovery, repeat. Checked after
// each crash: every acknowledged batch is there byte for byte at its offset, and everything
// that is there is a batch that was appended at that offset (nothing torn, nothing invented).
TEST_P(LogFaultTest, RandomCrashesNeverLoseAcknowledgedAppends) {
    const uint64_t seed = io::SimFileSystem::seed_from_env(std::random_device{}());
    SCOPED_TRACE("replay with RINGLOG_SEED=" + std::to_string(seed));
    std::mt19937_64 random(seed);
    fs_ = std::make_unique<io::SimFileSystem>(seed);
    fs_->set_yield([]() -> io::Task<void> { co_await io::Reactor::current().yield(); });

    std::map<int64_t, std::vector<std::byte>> acknowledged;
    std::map<uint64_t, std::vector<std::byte>> attempted;  // by seed
    uint64_t next_seed = 0;
    for (int round = 0; round < 40; ++round) {
        auto log = open();
        ASSERT_NE(log, nullptr);
        // Recovered state: acknowledged batches intact, the rest only ever whole attempted ones.
        const auto recovered = contents(*log);
        for (const auto& [offset, batch] : acknowledged) {
            auto it = recovered.find(offset);
            ASSERT_NE(it, recovered.end())
                << "acknowledged offset " << offset << " lost, round " << round;
            ASSERT_EQ(it->second, batch) << "offset " << offset;
        }
        for (const auto& [offset, batch] : recovered) {
            const bool known = std::any_of(attempted.begin(), attempted.end(),
                                           [&](const auto& a) { return a.second == batch; });
            ASSERT_TRUE(known) << "offset " << offset << " holds bytes nobody appended";
        }
        // Recovered but unacknowledged batches are now part of the log.
        acknowledged = recovered;

        bool crashed = false;
        io::TaskGroup group;
        const int appends = 1 + random() % 30;
        for (int i = 0; i < appends; ++i) {
            auto batch = make_batch(next_seed, 1 + random() % 6, random() % 3000);
            attempted[next_seed++] = batch;
            group.spawn(append_and_record(*log, std::move(batch), acknowledged, crashed));
        }
        group.spawn(crash_after(*fs_, 1 + random() % 200, crashed, random()));
        reactor_->block_on(group.wait_idle());
        (void)reactor_->block_on(log->close());  // fails after the crash: the files are dead
    }
}

// Waits `turns` loop turns, then appends (so appends arrive while flushes are in flight).
io::Task<void> append_later(Log& log, int turns, std::vector<std::byte> batch,
                            std::map<int64_t, std::vector<std::byte>>& acknowledged,
                            std::vector<absl::Status>& failures) {
    for (int i = 0; i < turns; ++i) {
        co_await io::Reactor::current().yield();
    }
    auto result = co_await log.append(batch);
    if (result.ok()) {
        acknowledged[result->base_offset.value()] = std::move(batch);
    } else {
        failures.push_back(result.status());
    }
}

// The flusher syncs what is written while it writes what arrived meanwhile (fdatasync), or
// makes each flush durable with its one write (dsync). Appends arrive staggered while one write
// or sync fails at a random point: every append that was acknowledged is there after a power
// loss, byte for byte; a failure drops only appends that were not acknowledged; and syncs did
// run beside writes (fdatasync), or the flushes were dsync writes.
TEST_P(LogFaultTest, SyncsOverlapWritesAndAFailureDropsOnlyUnacknowledgedAppends) {
    const uint64_t seed = io::SimFileSystem::seed_from_env(std::random_device{}());
    SCOPED_TRACE("replay with RINGLOG_SEED=" + std::to_string(seed));
    std::mt19937_64 random(seed);
    uint64_t overlapped = 0;
    uint64_t failed_appends = 0;
    uint64_t dsync_writes = 0;
    for (int round = 0; round < 30; ++round) {
        fs_ = std::make_unique<io::SimFileSystem>(seed + round);
        fs_->set_yield([]() -> io::Task<void> { co_await io::Reactor::current().yield(); });
        auto log = open();
        ASSERT_NE(log, nullptr);
        io::FaultPlan faults;
        if (round % 3 == 0) {
            faults.fail_sync_after = static_cast<int64_t>(random() % 6);
        } else if (round % 3 == 1) {
            faults.fail_write_after = static_cast<int64_t>(random() % 6);
        }
        fs_->set_faults(faults);
        std::map<int64_t, std::vector<std::byte>> acknowledged;
        std::vector<absl::Status> failures;
        io::TaskGroup group;
        for (int i = 0; i < 24; ++i) {
            group.spawn(append_later(*log, static_cast<int>(random() % 40),
                                     make_batch(static_cast<uint64_t>(round * 100 + i),
                                                1 + random() % 4, random() % 2000),
                                     acknowledged, failures));
        }
        reactor_->block_on(group.wait_idle());
        overlapped += log->stats().overlapped_syncs;
        dsync_writes += fs_->stats().dsync_writes;
        failed_appends += failures.size();
        for (const absl::Status& failure : failures) {
            EXPECT_EQ(failure.code(), absl::StatusCode::kDataLoss) << failure;
        }
        // What the log serves is exactly what it acknowledged.
        EXPECT_EQ(contents(*log), acknowledged) << "round " << round;
        ASSERT_TRUE(reactor_->block_on(log->close()).ok());
        fs_->crash(io::CrashMode::tear_unsynced);
        auto reopened = open();
        ASSERT_NE(reopened, nullptr);
        EXPECT_EQ(contents(*reopened), acknowledged) << "round " << round;
        ASSERT_TRUE(reactor_->block_on(reopened->close()).ok());
    }
    EXPECT_GT(failed_appends, 0u);
    if (GetParam() == SyncMethod::write_then_fdatasync) {
        EXPECT_GT(overlapped, 0u);
        EXPECT_EQ(dsync_writes, 0u);
    } else if (GetParam() == SyncMethod::dsync_write) {
        EXPECT_EQ(overlapped, 0u);
        EXPECT_GT(dsync_writes, 0u);
    } else {
        EXPECT_GT(dsync_writes, 0u);  // these flushes are small: adaptive writes them dsync
    }
}

INSTANTIATE_TEST_SUITE_P(SyncMethods, LogFaultTest,
                         ::testing::Values(SyncMethod::write_then_fdatasync,
                                           SyncMethod::dsync_write, SyncMethod::adaptive),
                         [](const ::testing::TestParamInfo<SyncMethod>& param_info) {
                             switch (param_info.param) {
                                 case SyncMethod::write_then_fdatasync:
                                     return "Fdatasync";
                                 case SyncMethod::dsync_write:
                                     return "Dsync";
                                 case SyncMethod::adaptive:
                                     return "Adaptive";
                             }
                             return "Unknown";
                         });

}  // namespace
}  // namespace ringlog::core
