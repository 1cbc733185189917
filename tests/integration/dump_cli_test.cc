// `ringlog dump` as an operator runs it: on segment and index files a real log wrote, on a
// segment with a flipped byte and on one cut short. It must print the batches, and its exit
// code must tell intact (0) from corrupt (1) from unreadable (2).
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include <gtest/gtest.h>

#include "core/log.h"
#include "core/segment_names.h"
#include "io/uring_file_system.h"
#include "tests/support/log_test_util.h"

namespace ringlog::core {
namespace {

struct CliRun {
    int exit_code;
    std::string output;
};

CliRun run_cli(const std::string& args) {
    const std::string command = std::string(RINGLOG_CLI) + " " + args + " 2>&1";
    FILE* pipe = popen(command.c_str(), "r");
    CliRun run{-1, ""};
    char buffer[4096];
    size_t count;
    while ((count = fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
        run.output.append(buffer, count);
    }
    const int status = pclose(pipe);
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return run;
}

class DumpCliTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path()
               / ("ringlog-dump-" + std::to_string(getpid()) + "/t-0");
        std::filesystem::remove_all(dir_);
        auto reactor = testing::make_reactor();
        io::UringFileSystem fs(*reactor);
        LogConfig config;
        config.segment_bytes = 64 * 1024;
        config.prewrite_ahead_bytes = 0;
        auto log = reactor->block_on(Log::open(fs, dir_, config));
        ASSERT_TRUE(log.ok()) << log.status();
        for (int i = 0; i < 30; ++i) {
            auto batch = testing::make_batch(i, 3, 1000);
            ASSERT_TRUE(reactor->block_on((*log)->append(batch)).ok());
        }
        ASSERT_GE((*log)->segment_count(), 2u);
        ASSERT_TRUE(reactor->block_on((*log)->close()).ok());
        sealed_ = segment_path(dir_, Offset(0), SegmentFileKind::log);
    }

    void TearDown() override {
        std::filesystem::remove_all(std::filesystem::path(dir_).parent_path());
    }

    std::string dir_;
    std::string sealed_;
};

TEST_F(DumpCliTest, PrintsEveryBatchOfAnIntactSegmentAndExitsZero) {
    const CliRun run = run_cli("dump " + sealed_);
    EXPECT_EQ(run.exit_code, 0) << run.output;
    EXPECT_NE(run.output.find("0 CRC failures; clean end"), std::string::npos) << run.output;
    EXPECT_NE(run.output.find("none ok"), std::string::npos) << run.output;
    EXPECT_EQ(run.output.find("MISMATCH"), std::string::npos) << run.output;
}

TEST_F(DumpCliTest, PrintsIndexEntries) {
    const CliRun run =
        run_cli("dump " + segment_path(dir_, Offset(0), SegmentFileKind::offset_index) + " "
                + segment_path(dir_, Offset(0), SegmentFileKind::time_index));
    EXPECT_EQ(run.exit_code, 0) << run.output;
    EXPECT_NE(run.output.find("entries"), std::string::npos) << run.output;
}

TEST_F(DumpCliTest, AFlippedByteIsACrcMismatchAndExitsOne) {
    const int fd = open(sealed_.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    char byte;
    ASSERT_EQ(pread(fd, &byte, 1, 5000), 1);
    byte ^= 0x20;
    ASSERT_EQ(pwrite(fd, &byte, 1, 5000), 1);
    close(fd);
    const CliRun run = run_cli("dump " + sealed_);
    EXPECT_EQ(run.exit_code, 1) << run.output;
    EXPECT_NE(run.output.find("MISMATCH"), std::string::npos) << run.output;
    EXPECT_NE(run.output.find("1 CRC failures"), std::string::npos) << run.output;
}

TEST_F(DumpCliTest, ACutOffBatchIsTornAndExitsOne) {
    const auto size = std::filesystem::file_size(sealed_);
    std::filesystem::resize_file(sealed_, size - 100);
    const CliRun run = run_cli("dump " + sealed_);
    EXPECT_EQ(run.exit_code, 1) << run.output;
    EXPECT_NE(run.output.find("TORN"), std::string::npos) << run.output;
}

TEST_F(DumpCliTest, AMissingFileExitsTwo) {
    const CliRun run = run_cli("dump " + dir_ + "/nothing.log");
    EXPECT_EQ(run.exit_code, 2) << run.output;
}

}  // namespace
}  // namespace ringlog::core
