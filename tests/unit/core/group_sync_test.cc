// GroupSync: a request alone syncs its own file, requests that wait together share one syncfs,
// a round never answers a request made after it began, a failed round fails all of it; and logs
// sharing one stay durable through a power loss.
#include "core/group_sync.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/log.h"
#include "io/event.h"
#include "io/sim_file_system.h"
#include "io/task_group.h"
#include "tests/support/log_test_util.h"

namespace ringlog::core {
namespace {

// Holds every file-system operation that starts while `held`, until open() is called; once
// open, each operation takes a turn of the loop, so rounds in flight overlap.
struct Gate {
    bool held = false;
    io::Notify opened;

    void open() {
        held = false;
        opened.notify_all();
    }
};

io::Task<void> pass(Gate* gate) {
    if (gate->held) {
        co_await gate->opened.wait();
    } else {
        co_await io::Reactor::current().yield();
    }
}

std::vector<std::byte> bytes_of(char fill) {
    return std::vector<std::byte>(4096, static_cast<std::byte>(fill));
}

io::Task<void> write_block(io::File* file, char fill) {
    const std::vector<std::byte> data = bytes_of(fill);
    absl::Status status = co_await io::write_all(*file, 0, data);
    EXPECT_TRUE(status.ok()) << status;
}

io::Task<void> let_turns_pass(int turns) {
    for (int i = 0; i < turns; ++i) {
        co_await io::Reactor::current().yield();
    }
}

io::Task<void> sync_into(GroupSync* group, io::File* file, absl::Status* status) {
    *status = co_await group->datasync(*file);
}

class GroupSyncTest : public ::testing::Test {
protected:
    void SetUp() override {
        fs_.set_yield([this] { return pass(&gate_); });
        ASSERT_TRUE(fs_.make_dirs("/d").ok());
        for (const char* name : {"/d/a", "/d/b", "/d/c"}) {
            auto file = reactor_->block_on(fs_.open(name, {.create = true, .direct = false}));
            ASSERT_TRUE(file.ok()) << file.status();
            files_.push_back(*std::move(file));
        }
        ASSERT_TRUE(reactor_->block_on(fs_.sync_dir("/d")).ok());
    }

    void TearDown() override {
        for (auto& file : files_) {
            (void)reactor_->block_on(file->close());
        }
    }

    // File i gets one block of 'a' + i.
    void write_every_file() {
        for (size_t i = 0; i < files_.size(); ++i) {
            reactor_->block_on(write_block(files_[i].get(), static_cast<char>('a' + i)));
        }
    }

    bool durable(const std::string& path, char fill) const {
        return fs_.durable_bytes(path) == bytes_of(fill);
    }

    std::unique_ptr<io::Reactor> reactor_ = testing::make_reactor();
    io::SimFileSystem fs_{7};
    Gate gate_;
    std::vector<std::unique_ptr<io::File>> files_;
    GroupSync group_{1};  // one round at a time, so a held round makes the others wait
};

TEST_F(GroupSyncTest, ARequestAloneSyncsItsOwnFile) {
    reactor_->block_on(write_block(files_[0].get(), 'a'));
    reactor_->block_on(write_block(files_[1].get(), 'b'));
    absl::Status status = reactor_->block_on(group_.datasync(*files_[0]));
    ASSERT_TRUE(status.ok()) << status;
    EXPECT_EQ(group_.stats().file_syncs, 1u);
    EXPECT_EQ(group_.stats().file_system_syncs, 0u);
    EXPECT_TRUE(durable("/d/a", 'a'));
    EXPECT_FALSE(durable("/d/b", 'b'));  // an fdatasync of a, not a syncfs
}

TEST_F(GroupSyncTest, RequestsWaitingTogetherShareOneFileSystemSync) {
    write_every_file();
    std::vector<absl::Status> statuses(files_.size(), absl::UnknownError("not run"));
    io::TaskGroup syncs;
    gate_.held = true;
    syncs.spawn(sync_into(&group_, files_[0].get(), &statuses[0]));  // round 1, held
    syncs.spawn(sync_into(&group_, files_[1].get(), &statuses[1]));  // wait for round 2
    syncs.spawn(sync_into(&group_, files_[2].get(), &statuses[2]));
    gate_.open();
    reactor_->block_on(syncs.wait_idle());
    for (const absl::Status& status : statuses) {
        EXPECT_TRUE(status.ok()) << status;
    }
    EXPECT_EQ(group_.stats().requests, 3u);
    EXPECT_EQ(group_.stats().file_syncs, 1u);         // a alone
    EXPECT_EQ(group_.stats().file_system_syncs, 1u);  // b and c together
    EXPECT_EQ(fs_.stats().file_system_syncs, 1u);
    fs_.crash(io::CrashMode::drop_unsynced);
    EXPECT_TRUE(durable("/d/a", 'a'));
    EXPECT_TRUE(durable("/d/b", 'b'));
    EXPECT_TRUE(durable("/d/c", 'c'));
}

TEST_F(GroupSyncTest, ARequestMadeDuringARoundWaitsForTheNext) {
    reactor_->block_on(write_block(files_[0].get(), 'a'));
    absl::Status first = absl::UnknownError("not run");
    absl::Status second = absl::UnknownError("not run");
    io::TaskGroup syncs;
    gate_.held = true;
    syncs.spawn(sync_into(&group_, files_[0].get(), &first));  // its fdatasync waits at the gate
    // Later operations pass (the held one still waits for the notification): b is written
    // after a's sync began, so only a sync begun after this write may answer for it.
    gate_.held = false;
    reactor_->block_on(write_block(files_[1].get(), 'b'));
    syncs.spawn(sync_into(&group_, files_[1].get(), &second));
    gate_.open();
    reactor_->block_on(syncs.wait_idle());
    ASSERT_TRUE(first.ok()) << first;
    ASSERT_TRUE(second.ok()) << second;
    EXPECT_EQ(group_.stats().file_syncs, 2u);
    fs_.crash(io::CrashMode::drop_unsynced);
    EXPECT_TRUE(durable("/d/a", 'a'));
    EXPECT_TRUE(durable("/d/b", 'b'));
}

TEST_F(GroupSyncTest, RequestsStartTheirOwnRoundsWhileThereIsRoom) {
    write_every_file();
    GroupSync two(2);
    std::vector<absl::Status> statuses(files_.size(), absl::UnknownError("not run"));
    io::TaskGroup syncs;
    gate_.held = true;
    syncs.spawn(sync_into(&two, files_[0].get(), &statuses[0]));  // round 1, held
    syncs.spawn(sync_into(&two, files_[1].get(), &statuses[1]));  // round 2 beside it, held
    syncs.spawn(sync_into(&two, files_[2].get(), &statuses[2]));  // waits for a free round
    EXPECT_EQ(fs_.stats().syncs, 0u);
    gate_.open();
    reactor_->block_on(syncs.wait_idle());
    for (const absl::Status& status : statuses) {
        EXPECT_TRUE(status.ok()) << status;
    }
    EXPECT_EQ(two.stats().file_syncs, 3u);  // each alone in its round
    EXPECT_EQ(two.stats().file_system_syncs, 0u);
    fs_.crash(io::CrashMode::drop_unsynced);
    EXPECT_TRUE(durable("/d/a", 'a'));
    EXPECT_TRUE(durable("/d/b", 'b'));
    EXPECT_TRUE(durable("/d/c", 'c'));
}

// A request that a round has taken waits for that round, even when another round ends first
// and there is room for a new one.
TEST_F(GroupSyncTest, ARequestInARoundWaitsForItWhenAnotherEnds) {
    write_every_file();
    GroupSync two(2);
    constexpr size_t requests = 5;
    std::vector<absl::Status> statuses(requests, absl::UnknownError("not run"));
    io::TaskGroup syncs;
    gate_.held = true;
    for (size_t i = 0; i < requests; ++i) {  // two rounds of one held; three wait
        syncs.spawn(sync_into(&two, files_[i % files_.size()].get(), &statuses[i]));
    }
    gate_.open();
    reactor_->block_on(syncs.wait_idle());
    for (const absl::Status& status : statuses) {
        EXPECT_TRUE(status.ok()) << status;
    }
    EXPECT_EQ(two.stats().file_syncs, 2u);
    EXPECT_EQ(two.stats().file_system_syncs, 1u);  // the three that waited, together
}

TEST_F(GroupSyncTest, AFailedRoundFailsEveryRequestInIt) {
    write_every_file();
    std::vector<absl::Status> statuses(files_.size(), absl::UnknownError("not run"));
    io::TaskGroup syncs;
    gate_.held = true;
    syncs.spawn(sync_into(&group_, files_[0].get(), &statuses[0]));
    syncs.spawn(sync_into(&group_, files_[1].get(), &statuses[1]));
    syncs.spawn(sync_into(&group_, files_[2].get(), &statuses[2]));
    fs_.set_faults({.fail_sync_after = 1});  // a's fdatasync succeeds, the syncfs fails
    gate_.open();
    reactor_->block_on(syncs.wait_idle());
    EXPECT_TRUE(statuses[0].ok()) << statuses[0];
    EXPECT_EQ(statuses[1].code(), absl::StatusCode::kDataLoss) << statuses[1];
    EXPECT_EQ(statuses[2].code(), absl::StatusCode::kDataLoss) << statuses[2];
    EXPECT_EQ(group_.stats().failed_rounds, 1u);
    fs_.crash(io::CrashMode::drop_unsynced);
    EXPECT_FALSE(durable("/d/b", 'b'));
}

// Three logs under `always` sharing one GroupSync, appended to at once from their own
// coroutines: every acknowledged batch is there after a power loss, and syncfs rounds ran.
io::Task<void> append_many(Log* log, uint64_t seed, int count,
                           std::map<int64_t, std::vector<std::byte>>* acknowledged) {
    for (int i = 0; i < count; ++i) {
        std::vector<std::byte> batch = testing::make_batch(seed * 1000 + i, 3, 300);
        auto result = co_await log->append(batch);
        EXPECT_TRUE(result.ok()) << result.status();
        if (result.ok()) {
            (*acknowledged)[result->base_offset.value()] = std::move(batch);
        }
    }
}

// A log's dsync write takes a round of its own: while it runs (and the only round is taken) a
// sync waits, and starts once the write ends; no solo write starts while a request waits.
TEST_F(GroupSyncTest, ASoloWriteTakesARoundAndASyncWaitsForIt) {
    reactor_->block_on(write_block(files_[0].get(), 'a'));
    ASSERT_TRUE(group_.try_begin_solo());
    EXPECT_FALSE(group_.try_begin_solo());  // the one round is taken
    absl::Status status = absl::UnknownError("not run");
    io::TaskGroup syncs;
    syncs.spawn(sync_into(&group_, files_[0].get(), &status));
    reactor_->block_on(let_turns_pass(10));
    EXPECT_TRUE(absl::IsUnknown(status)) << "the sync ran beside the solo write";
    EXPECT_EQ(fs_.stats().syncs, 0u);
    group_.end_solo();
    EXPECT_FALSE(group_.try_begin_solo());  // a request waits: it goes first
    reactor_->block_on(syncs.wait_idle());
    EXPECT_TRUE(status.ok()) << status;
    EXPECT_TRUE(durable("/d/a", 'a'));
    EXPECT_EQ(group_.stats().solo_writes, 1u);
    EXPECT_TRUE(group_.try_begin_solo());  // free again
    group_.end_solo();
}

// Three logs appending at once through one GroupSync of one round, then a torn power loss.
class GroupSyncLogTest : public ::testing::Test {
protected:
    static constexpr int logs = 3;

    void open_logs(uint64_t seed, SyncMethod method) {
        fs_ = std::make_unique<io::SimFileSystem>(seed);
        fs_->set_yield([]() -> io::Task<void> { co_await io::Reactor::current().yield(); });
        config_.segment_bytes = 64 * 1024;  // rolls too
        config_.durability = Durability::always;
        config_.prewrite_ahead_bytes = 0;
        config_.sync_method = method;
        for (int i = 0; i < logs; ++i) {
            opened_.push_back(open(i));
        }
    }

    std::unique_ptr<Log> open(int i) {
        auto log = reactor_->block_on(Log::open(*fs_, "/data/t-" + std::to_string(i), config_,
                                                Clock::system(), nullptr, &group_));
        EXPECT_TRUE(log.ok()) << log.status();
        return log.ok() ? *std::move(log) : nullptr;
    }

    void append_to_every_log() {
        io::TaskGroup appenders;
        for (int i = 0; i < logs; ++i) {
            appenders.spawn(
                append_many(opened_[i].get(), static_cast<uint64_t>(i), 60, &acknowledged_[i]));
        }
        reactor_->block_on(appenders.wait_idle());
    }

    // Pulls the plug and reopens each log: every acknowledged batch is there, byte for byte,
    // and with `nothing_else` nothing unacknowledged is.
    void crash_and_check(bool nothing_else) {
        fs_->crash(io::CrashMode::tear_unsynced);
        for (auto& log : opened_) {
            (void)reactor_->block_on(log->close());  // fails: the handles died with the crash
        }
        opened_.clear();
        for (int i = 0; i < logs; ++i) {
            auto log = open(i);
            ASSERT_NE(log, nullptr);
            auto readable = testing::readable_batches(*reactor_, *log);
            ASSERT_TRUE(readable.ok()) << readable.status();
            if (nothing_else) {
                EXPECT_EQ(readable->size(), acknowledged_[i].size()) << "log " << i;
            }
            for (const auto& [offset, batch] : acknowledged_[i]) {
                auto found = readable->find(offset);
                ASSERT_NE(found, readable->end()) << "log " << i << " lost offset " << offset;
                EXPECT_EQ(found->second, batch) << "log " << i << " offset " << offset;
            }
            ASSERT_TRUE(reactor_->block_on(log->close()).ok());
        }
    }

    std::unique_ptr<io::Reactor> reactor_ = testing::make_reactor();
    std::unique_ptr<io::SimFileSystem> fs_;
    LogConfig config_;
    GroupSync group_{1};  // one round at a time: the other logs wait and share a syncfs
    std::vector<std::unique_ptr<Log>> opened_;
    std::vector<std::map<int64_t, std::vector<std::byte>>> acknowledged_ =
        std::vector<std::map<int64_t, std::vector<std::byte>>>(logs);
};

// The same logs under SyncMethod::adaptive: small flushes are dsync writes while a round is
// free, the rest wait and share syncfs rounds; a power loss keeps every acknowledged batch.
TEST_F(GroupSyncLogTest, AdaptiveLogsSharingSyncsKeepEveryAcknowledgedBatchThroughAPowerLoss) {
    open_logs(13, SyncMethod::adaptive);
    append_to_every_log();
    EXPECT_GT(group_.stats().solo_writes, 0u);
    EXPECT_GT(fs_->stats().dsync_writes, 0u);
    crash_and_check(/*nothing_else=*/false);
}

TEST_F(GroupSyncLogTest, LogsSharingSyncsKeepEveryAcknowledgedBatchThroughAPowerLoss) {
    open_logs(11, SyncMethod::write_then_fdatasync);
    append_to_every_log();
    EXPECT_GT(group_.stats().file_system_syncs, 0u);
    crash_and_check(/*nothing_else=*/true);
}

}  // namespace
}  // namespace ringlog::core
