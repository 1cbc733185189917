// The shard's tail pool is one budget for all its logs: while it runs short, logs keep none of
// their written data in memory, so another log's appends still find chunks in the pool.
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "core/log.h"
#include "io/base/limits.h"
#include "io/buffer.h"
#include "io/sim_file_system.h"
#include "tests/support/log_test_util.h"

namespace ringlog::core {
namespace {

TEST(LogTailMemory, AShortPoolMakesLogsReleaseTheirWrittenTails) {
    auto reactor = testing::make_reactor();
    io::SimFileSystem fs(5);
    io::BufferPool pool(limits::tail_chunk_bytes, 8);
    LogConfig config;
    config.segment_bytes = 64 * 1024 * 1024;
    config.durability = Durability::always;
    config.prewrite_ahead_bytes = 0;
    config.tail_bytes_max = 8 * 1024 * 1024;  // the pool's size: one log could hold it all
    auto first = reactor->block_on(Log::open(fs, "/data/a-0", config, Clock::system(), &pool));
    auto second = reactor->block_on(Log::open(fs, "/data/b-0", config, Clock::system(), &pool));
    ASSERT_TRUE(first.ok()) << first.status();
    ASSERT_TRUE(second.ok()) << second.status();
    std::vector<std::vector<std::byte>> batches;
    for (uint64_t i = 0; i < 30; ++i) {  // about 7.5 MiB: the whole pool, written and synced
        batches.push_back(testing::make_batch(i, 64, 4000));
        ASSERT_TRUE(reactor->block_on((*first)->append(batches.back())).ok());
    }
    EXPECT_GE(pool.available(), 6u) << "the first log kept its written tail";
    for (uint64_t i = 0; i < 4; ++i) {
        ASSERT_TRUE(
            reactor->block_on((*second)->append(testing::make_batch(100 + i, 64, 4000))).ok());
    }
    EXPECT_EQ(pool.overflow_count(), 0u);
    // What was released is read back from the file.
    auto readable = testing::readable_batches(*reactor, **first);
    ASSERT_TRUE(readable.ok()) << readable.status();
    ASSERT_EQ(readable->size(), batches.size());
    size_t i = 0;
    for (const auto& [offset, batch] : *readable) {
        EXPECT_EQ(batch, batches[i++]) << "offset " << offset;
    }
    ASSERT_TRUE(reactor->block_on((*first)->close()).ok());
    ASSERT_TRUE(reactor->block_on((*second)->close()).ok());
}

}  // namespace
}  // namespace ringlog::core
