// The in-memory tail of the active segment: a run of aligned chunks holding the segment's bytes
// from first_position() to end(). Appends are copied in once; the same memory is then written
// to disk with O_DIRECT and serves recent reads as BufferViews, without another copy.
//
// Positions are byte positions in the segment file. Chunks are contiguous: chunk i covers
// [first_position + i * chunk_bytes, first_position + (i + 1) * chunk_bytes). The first chunk
// starts on a DMA boundary, so every chunk does. Not thread-safe: owned by one shard.
#pragma once

#include <cstdint>
#include <deque>
#include <span>
#include <vector>

#include "io/buffer.h"

namespace ringlog::core {

class LogTail {
public:
    // One contiguous piece of the tail, ready to be written with O_DIRECT.
    struct WriteRange {
        uint64_t position;
        std::span<const std::byte> bytes;
        int fixed_index;
    };

    // pool may be null: chunks are then allocated alone. `start` is where the tail begins; if
    // it is not DMA-aligned, `head_page` holds the bytes of the page before it (read from disk
    // by recovery), because the next write rewrites that whole page.
    LogTail(io::BufferPool* pool, uint64_t start, std::span<const std::byte> head_page = {});

    uint64_t end() const { return end_; }

    uint64_t first_position() const { return chunks_.empty() ? end_ : chunks_.front().position; }

    size_t chunk_bytes() const { return chunk_bytes_; }

    size_t memory_bytes() const { return chunks_.size() * chunk_bytes_; }

    // How many chunks were overflow chunks (io::BufferPool::get()) because the pool was empty.
    uint64_t pool_misses() const { return pool_misses_; }

    // Copies bytes to the end of the tail.
    void append(std::span<const std::byte> bytes);

    // Copies bytes to the end of the tail and returns the CRC-32C of bytes[crc_from, end): each
    // block is checksummed right after it is copied, while it is still in the L1 cache, so the
    // bytes come from memory once instead of twice.
    uint32_t append_and_crc(std::span<const std::byte> bytes, size_t crc_from);

    // Overwrites bytes already in the tail (to patch a batch's base offset in place).
    void overwrite(uint64_t position, std::span<const std::byte> bytes);

    // Copies bytes out of the tail; [position, position + out.size()) must be in memory.
    void copy_out(uint64_t position, std::span<std::byte> out) const;

    // Appends views on [position, position + length) to `views`, merging with the last view
    // when contiguous in the same buffer.
    void append_views(uint64_t position, uint64_t length, std::vector<io::BufferView>& views) const;

    bool contains(uint64_t position, uint64_t length) const {
        return position >= first_position() && position + length <= end_;
    }

    // The block-aligned ranges covering [from, end()) rounded out to DMA blocks, split at chunk
    // boundaries and at max_bytes. Zeroes the slack after end() in the last block first, so
    // the padding that goes to disk is zeros, never stale memory.
    std::vector<WriteRange> write_ranges(uint64_t from, size_t max_bytes);

    // Drops whole chunks that end at or before `position` (already on disk), keeping at least
    // the chunk that holds end().
    void release_before(uint64_t position);

    // Rolls the end back to `position` (appends that will never be acknowledged).
    void truncate(uint64_t position);

private:
    struct Chunk {
        io::BufferRef buffer;
        uint64_t position;
    };

    const Chunk& chunk_at(uint64_t position) const;

    void add_chunk(uint64_t position);

    io::BufferPool* pool_;
    size_t chunk_bytes_;
    std::deque<Chunk> chunks_;
    uint64_t end_;
    uint64_t pool_misses_ = 0;
};

}  // namespace ringlog::core
