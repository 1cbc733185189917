// LogTail: appends spanning chunks, in-place patches, zero-copy views, the block-aligned write
// ranges (zero padding, never stale memory), release and rollback.
#include "core/log_tail.h"

#include <numeric>

#include <gtest/gtest.h>

#include "io/base/limits.h"
#include "net/kafka/crc32c.h"

namespace ringlog::core {
namespace {

std::vector<std::byte> pattern(size_t size, uint8_t seed) {
    std::vector<std::byte> bytes(size);
    for (size_t i = 0; i < size; ++i) {
        bytes[i] = static_cast<std::byte>((i * 31 + seed) & 0xff);
    }
    return bytes;
}

std::vector<std::byte> flatten(const std::vector<io::BufferView>& views) {
    std::vector<std::byte> out;
    for (const auto& view : views) {
        out.insert(out.end(), view.bytes().begin(), view.bytes().end());
    }
    return out;
}

TEST(LogTail, AppendsAcrossChunksAndCopiesBack) {
    io::BufferPool pool(64 * 1024, 8);
    LogTail tail(&pool, 0);
    const auto data = pattern(200 * 1024, 1);
    tail.append(data);
    EXPECT_EQ(tail.end(), data.size());
    std::vector<std::byte> out(data.size());
    tail.copy_out(0, out);
    EXPECT_EQ(out, data);
    EXPECT_EQ(pool.available(), 4u);  // 200 KiB in 64 KiB chunks
}

TEST(LogTail, ViewsMergeWithinAChunkAndSplitAcrossChunks) {
    io::BufferPool pool(64 * 1024, 8);
    LogTail tail(&pool, 0);
    const auto data = pattern(100 * 1024, 2);
    tail.append(data);
    std::vector<io::BufferView> views;
    tail.append_views(1000, 2000, views);
    tail.append_views(3000, 70 * 1024, views);
    EXPECT_EQ(views.size(), 2u);  // merged in chunk 0, then chunk 1
    const auto got = flatten(views);
    EXPECT_TRUE(std::equal(got.begin(), got.end(), data.begin() + 1000));
}

TEST(LogTail, ViewsKeepChunksAliveAfterRelease) {
    io::BufferPool pool(64 * 1024, 4);
    LogTail tail(&pool, 0);
    const auto data = pattern(192 * 1024, 3);
    tail.append(data);
    std::vector<io::BufferView> views;
    tail.append_views(0, 1024, views);
    tail.release_before(128 * 1024);
    EXPECT_EQ(tail.first_position(), 128u * 1024);
    EXPECT_EQ(pool.available(), 2u);  // the first chunk is still referenced by the view
    EXPECT_TRUE(std::equal(views[0].bytes().begin(), views[0].bytes().end(), data.begin()));
    views.clear();
    EXPECT_EQ(pool.available(), 3u);
}

TEST(LogTail, OverwritePatchesAcrossAChunkBoundary) {
    io::BufferPool pool(64 * 1024, 4);
    LogTail tail(&pool, 0);
    tail.append(pattern(100 * 1024, 4));
    const auto patch = pattern(16, 99);
    tail.overwrite(64 * 1024 - 8, patch);
    std::vector<std::byte> out(16);
    tail.copy_out(64 * 1024 - 8, out);
    EXPECT_EQ(out, patch);
}

TEST(LogTail, WriteRangesAreBlockAlignedAndPaddedWithZeros) {
    io::BufferPool pool(64 * 1024, 4);
    // Dirty the pool's memory so stale bytes would show.
    for (auto* buffer : pool.buffers()) {
        std::fill(buffer->data(), buffer->data() + buffer->size(), std::byte{0xee});
    }
    LogTail tail(&pool, 0);
    tail.append(pattern(5000, 5));
    auto ranges = tail.write_ranges(0, 1 << 20);
    ASSERT_EQ(ranges.size(), 1u);
    EXPECT_EQ(ranges[0].position, 0u);
    EXPECT_EQ(ranges[0].bytes.size(), 8192u);
    EXPECT_EQ(ranges[0].fixed_index, -1);  // the pool was never registered
    for (size_t i = 5000; i < 8192; ++i) {
        ASSERT_EQ(ranges[0].bytes[i], std::byte{0}) << i;
    }
    // The next write starts again at the partial block.
    tail.append(pattern(70 * 1024, 6));
    ranges = tail.write_ranges(5000, 1 << 20);
    ASSERT_EQ(ranges.size(), 2u);
    EXPECT_EQ(ranges[0].position, 4096u);
    EXPECT_EQ(ranges[0].bytes.size(), 60u * 1024);
    EXPECT_EQ(ranges[1].position, 64u * 1024);
    for (const auto& range : ranges) {
        EXPECT_EQ(range.position % limits::dma_alignment, 0u);
        EXPECT_EQ(range.bytes.size() % limits::dma_alignment, 0u);
    }
}

TEST(LogTail, StartsMidBlockWithTheHeadPageFromDisk) {
    const auto head = pattern(1000, 7);
    LogTail tail(nullptr, 4096 + 1000, head);
    EXPECT_EQ(tail.first_position(), 4096u);
    tail.append(pattern(10, 8));
    auto ranges = tail.write_ranges(4096 + 1000, 1 << 20);
    ASSERT_EQ(ranges.size(), 1u);
    EXPECT_EQ(ranges[0].position, 4096u);
    EXPECT_TRUE(std::equal(head.begin(), head.end(), ranges[0].bytes.begin()));
}

TEST(LogTail, TruncateRollsBackAndAppendReusesTheSpace) {
    io::BufferPool pool(64 * 1024, 4);
    LogTail tail(&pool, 0);
    tail.append(pattern(100 * 1024, 9));
    tail.truncate(10 * 1024);
    EXPECT_EQ(tail.end(), 10u * 1024);
    EXPECT_EQ(pool.available(), 3u);
    const auto more = pattern(100, 10);
    tail.append(more);
    std::vector<std::byte> out(100);
    tail.copy_out(10 * 1024, out);
    EXPECT_EQ(out, more);
}

TEST(LogTail, EmptyPoolFallsBackToStandaloneChunksAndCountsIt) {
    io::BufferPool pool(64 * 1024, 1);
    LogTail tail(&pool, 0);
    tail.append(pattern(130 * 1024, 11));
    EXPECT_EQ(tail.pool_misses(), 2u);
    std::vector<std::byte> out(130 * 1024);
    tail.copy_out(0, out);
    EXPECT_EQ(out, pattern(130 * 1024, 11));
}

}  // namespace
}  // namespace ringlog::core

namespace ringlog::core {
namespace {

TEST(LogTail, AppendAndCrcChecksumsWhatLandsAcrossChunks) {
    io::BufferPool pool(64 * 1024, 8);
    LogTail tail(&pool, 0);
    tail.append(pattern(1000, 12));  // start mid-chunk
    const auto data = pattern(150 * 1024 + 7, 13);
    for (size_t crc_from : {size_t{0}, size_t{21}, size_t{70 * 1024}}) {
        const uint64_t start = tail.end();
        const uint32_t crc = tail.append_and_crc(data, crc_from);
        EXPECT_EQ(crc, net::kafka::crc32c(std::span(data).subspan(crc_from))) << crc_from;
        std::vector<std::byte> out(data.size());
        tail.copy_out(start, out);
        EXPECT_EQ(out, data);
    }
}

}  // namespace
}  // namespace ringlog::core
