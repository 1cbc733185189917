// BufferPool, BufferRef and BufferView: alignment for O_DIRECT, sizes rounded up to it,
// reference counting, buffers going back to their pool with the last reference, exhaustion
// as an empty reference (back-pressure, never an allocation), and views keeping buffers alive.
#include "io/buffer.h"

#include <cstdint>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "io/base/limits.h"

namespace ringlog::io {
namespace {

bool aligned(const void* address) {
    return reinterpret_cast<uintptr_t>(address) % limits::dma_alignment == 0;
}

TEST(BufferPool, BuffersAreAlignedAndSizesRoundedUp) {
    BufferPool pool(5000, 3);
    EXPECT_EQ(pool.buffer_bytes(), 8192u);
    EXPECT_EQ(pool.count(), 3u);
    EXPECT_EQ(pool.region().size(), 3u * 8192);
    EXPECT_TRUE(aligned(pool.region().data()));
    for (Buffer* buffer : pool.buffers()) {
        EXPECT_TRUE(aligned(buffer->data()));
        EXPECT_EQ(buffer->size(), 8192u);
        EXPECT_EQ(buffer->fixed_index(), -1);
        EXPECT_EQ(buffer->ref_count(), 0u);
    }
}

TEST(BufferPool, ExhaustionReturnsAnEmptyRefAndReleaseRefills) {
    BufferPool pool(4096, 2);
    BufferRef first = pool.try_get();
    BufferRef second = pool.try_get();
    ASSERT_TRUE(first);
    ASSERT_TRUE(second);
    EXPECT_NE(first.get(), second.get());
    EXPECT_EQ(pool.available(), 0u);
    EXPECT_FALSE(pool.try_get());
    first.reset();
    EXPECT_FALSE(first);
    EXPECT_EQ(pool.available(), 1u);
    BufferRef again = pool.try_get();
    EXPECT_TRUE(again);
}

TEST(BufferPool, GetPastTheFixedSetMakesOverflowBuffersAndReusesThem) {
    BufferPool pool(4096, 1);
    BufferRef fixed = pool.get();
    ASSERT_TRUE(fixed);
    EXPECT_FALSE(fixed->overflow());
    BufferRef extra = pool.get();
    ASSERT_TRUE(extra);
    EXPECT_TRUE(extra->overflow());
    EXPECT_EQ(extra->size(), 4096u);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(extra->data()) % 4096, 0u);
    EXPECT_FALSE(pool.try_get());  // try_get never overflows
    EXPECT_EQ(pool.overflow_count(), 1u);
    EXPECT_EQ(pool.in_use_bytes(), 2 * 4096u);
    Buffer* made = extra.get();
    extra.reset();
    EXPECT_EQ(pool.overflow_available(), 1u);
    EXPECT_EQ(pool.in_use_bytes(), 4096u);
    BufferRef again = pool.get();
    EXPECT_EQ(again.get(), made);  // kept, not freed and made anew
    EXPECT_EQ(pool.overflow_count(), 1u);
    fixed.reset();
    BufferRef back = pool.get();
    EXPECT_FALSE(back->overflow());  // the fixed set first
}

TEST(BufferRef, CopiesShareAndTheLastOneReturnsTheBuffer) {
    BufferPool pool(4096, 1);
    BufferRef first = pool.try_get();
    Buffer* buffer = first.get();
    EXPECT_EQ(buffer->ref_count(), 1u);
    {
        BufferRef copy = first;
        EXPECT_EQ(buffer->ref_count(), 2u);
        BufferRef assigned;
        assigned = copy;
        EXPECT_EQ(buffer->ref_count(), 3u);
    }
    EXPECT_EQ(buffer->ref_count(), 1u);
    BufferRef moved = std::move(first);
    EXPECT_FALSE(first);  // NOLINT(bugprone-use-after-move): checking the moved-from state
    EXPECT_EQ(buffer->ref_count(), 1u);
    EXPECT_EQ(pool.available(), 0u);
    moved = BufferRef();
    EXPECT_EQ(buffer->ref_count(), 0u);
    EXPECT_EQ(pool.available(), 1u);
}

TEST(BufferRef, AllocateGivesAnAlignedStandaloneBuffer) {
    BufferRef buffer = BufferRef::allocate(100);
    ASSERT_TRUE(buffer);
    EXPECT_EQ(buffer->size(), limits::dma_alignment);
    EXPECT_TRUE(aligned(buffer->data()));
    EXPECT_EQ(buffer->ref_count(), 1u);
    std::memset(buffer->data(), 0xab, buffer->size());  // writable over its whole size
    BufferRef empty = BufferRef::allocate(0);
    EXPECT_EQ(empty->size(), limits::dma_alignment);
}

TEST(BufferView, KeepsItsBufferAliveAndSlicesIt) {
    BufferPool pool(4096, 1);
    std::vector<BufferView> views;
    {
        BufferRef buffer = pool.try_get();
        for (size_t i = 0; i < buffer->size(); ++i) {
            buffer->data()[i] = std::byte(i % 251);
        }
        views.push_back(BufferView{buffer, 100, 10});
        views.push_back(BufferView{buffer, 4000, 96});
    }
    EXPECT_EQ(pool.available(), 0u);  // the views hold it
    EXPECT_EQ(views[0].bytes().size(), 10u);
    EXPECT_EQ(views[0].bytes()[0], std::byte(100));
    EXPECT_EQ(views[1].bytes()[95], std::byte(4095 % 251));
    views.clear();
    EXPECT_EQ(pool.available(), 1u);
}

TEST(BufferPool, FixedIndexesAreConsecutive) {
    BufferPool pool(4096, 3);
    pool.set_fixed_indexes(10);
    EXPECT_EQ(pool.buffers()[0]->fixed_index(), 10);
    EXPECT_EQ(pool.buffers()[2]->fixed_index(), 12);
    BufferRef buffer = pool.try_get();
    EXPECT_GE(buffer->fixed_index(), 10);
}

}  // namespace
}  // namespace ringlog::io
