// The real thing: a child process appends with `always` on the io_uring O_DIRECT backend and
// reports every acknowledged offset to the parent through a pipe; the parent kills it with
// SIGKILL at a random moment, reopens the log, and checks that every acknowledged batch is
// there byte for byte and that nothing else is there but whole batches the child tried to
// append. Many rounds on the same log, so recovery also recovers logs that were recovered.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <random>

#include <gtest/gtest.h>

#include "core/log.h"
#include "io/sim_file_system.h"
#include "io/task_group.h"
#include "io/uring_file_system.h"
#include "tests/support/log_test_util.h"

namespace ringlog::core {
namespace {

using testing::flatten;
using testing::make_batch;
using testing::split_batches;

LogConfig kill_config() {
    LogConfig config;
    config.segment_bytes = 1024 * 1024;
    config.prewrite_ahead_bytes = 2 * 1024 * 1024;
    config.durability = Durability::always;
    config.retention_ms = -1;
    return config;
}

std::vector<std::byte> batch_for(uint64_t seed) {
    return make_batch(seed, 1 + seed % 7, (seed * 37) % 5000);
}

struct Report {
    uint64_t seed;
    int64_t offset;
};

io::Task<void> append_forever(Log& log, uint64_t first_seed, uint64_t stride, int fd) {
    for (uint64_t seed = first_seed;; seed += stride) {
        auto batch = batch_for(seed);
        auto result = co_await log.append(batch);
        if (!result.ok()) {
            _exit(3);
        }
        const Report report{seed, result->base_offset.value()};
        if (write(fd, &report, sizeof(report)) != sizeof(report)) {
            _exit(4);
        }
    }
}

[[noreturn]] void run_child(const std::string& dir, uint64_t first_seed, int fd) {
    auto reactor = testing::make_reactor();
    io::UringFileSystem fs(*reactor);
    auto log = reactor->block_on(Log::open(fs, dir, kill_config()));
    if (!log.ok()) {
        std::fprintf(stderr, "child: open: %s\n", std::string(log.status().message()).c_str());
        _exit(2);
    }
    constexpr uint64_t appenders = 8;
    io::TaskGroup group;
    for (uint64_t i = 0; i < appenders; ++i) {
        group.spawn(append_forever(**log, first_seed + i, appenders, fd));
    }
    reactor->block_on(group.wait_idle());
    _exit(0);
}

TEST(KillTest, SigkillNeverLosesAcknowledgedAppends) {
    const uint64_t seed = io::SimFileSystem::seed_from_env(std::random_device{}());
    SCOPED_TRACE("replay with RINGLOG_SEED=" + std::to_string(seed));
    std::mt19937_64 random(seed);
    const std::string dir = std::filesystem::temp_directory_path()
                            / ("ringlog-kill-" + std::to_string(getpid()) + "/t-0");
    std::filesystem::remove_all(std::filesystem::path(dir).parent_path());

    std::map<int64_t, uint64_t> acknowledged;  // offset -> seed
    uint64_t next_seed = 0;
    constexpr int rounds = 25;
    for (int round = 0; round < rounds; ++round) {
        int fds[2];
        ASSERT_EQ(pipe(fds), 0);
        const uint64_t first_seed = next_seed;
        const pid_t child = fork();
        ASSERT_GE(child, 0);
        if (child == 0) {
            close(fds[0]);
            run_child(dir, first_seed, fds[1]);
        }
        close(fds[1]);
        // Let it run for a random number of acknowledgements (or until it stops on its own).
        const int wanted = static_cast<int>(random() % 400);
        int received = 0;
        Report report;
        while (received < wanted) {
            pollfd pfd{fds[0], POLLIN, 0};
            if (poll(&pfd, 1, 20'000) <= 0) {
                break;
            }
            if (read(fds[0], &report, sizeof(report)) != sizeof(report)) {
                break;
            }
            acknowledged[report.offset] = report.seed;
            next_seed = std::max(next_seed, report.seed + 1);
            ++received;
        }
        kill(child, SIGKILL);
        // Acknowledgements already in the pipe count too: the child had them before it died.
        while (read(fds[0], &report, sizeof(report)) == sizeof(report)) {
            acknowledged[report.offset] = report.seed;
            next_seed = std::max(next_seed, report.seed + 1);
        }
        close(fds[0]);
        int status = 0;
        ASSERT_EQ(waitpid(child, &status, 0), child);
        ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
        next_seed += 64;  // seeds the child may have tried without acknowledgement stay unique

        auto reactor = testing::make_reactor();
        io::UringFileSystem fs(*reactor);
        auto log = reactor->block_on(Log::open(fs, dir, kill_config()));
        ASSERT_TRUE(log.ok()) << log.status();
        std::map<int64_t, std::vector<std::byte>> recovered;
        Offset from = (*log)->log_start_offset();
        while (from < (*log)->high_watermark()) {
            auto result = reactor->block_on((*log)->read(from, 1 << 20));
            ASSERT_TRUE(result.ok()) << result.status();
            ASSERT_FALSE(result->views.empty());
            for (auto& batch : split_batches(flatten(result->views))) {
                recovered[batch.base_offset] = std::move(batch.as_produced);
            }
            from = result->next_offset;
        }
        for (const auto& [offset, batch_seed] : acknowledged) {
            auto it = recovered.find(offset);
            ASSERT_NE(it, recovered.end())
                << "round " << round << ": acknowledged offset " << offset << " is gone";
            ASSERT_EQ(it->second, batch_for(batch_seed)) << "offset " << offset;
        }
        // Offsets are contiguous: every batch starts where the previous one ended.
        int64_t expected = 0;
        for (const auto& [offset, bytes] : recovered) {
            ASSERT_EQ(offset, expected) << "round " << round;
            auto view = net::kafka::RecordBatchView::parse(bytes);
            ASSERT_TRUE(view.ok());
            ASSERT_TRUE(view->validate_crc().ok());
            expected = offset + view->last_offset_delta() + 1;
        }
        ASSERT_TRUE(reactor->block_on((*log)->close()).ok());
    }
    EXPECT_GT(acknowledged.size(), 0u);
    std::filesystem::remove_all(std::filesystem::path(dir).parent_path());
}

}  // namespace
}  // namespace ringlog::core
