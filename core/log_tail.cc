#include "core/log_tail.h"

#include <algorithm>
#include <cstring>

#include "io/base/align.h"
#include "io/base/assert.h"
#include "io/base/limits.h"
#include "net/kafka/crc32c.h"

namespace ringlog::core {

using base::align_down;
using base::align_up;

LogTail::LogTail(io::BufferPool* pool, uint64_t start, std::span<const std::byte> head_page)
    : pool_(pool),
      chunk_bytes_(pool != nullptr ? pool->buffer_bytes() : limits::tail_chunk_bytes),
      end_(start) {
    RL_ASSERT(chunk_bytes_ % limits::dma_alignment == 0);
    const uint64_t page = align_down(start);
    if (page != start) {
        RL_ASSERT(head_page.size() == start - page, "head page of %d bytes for start %d",
                  head_page.size(), start);
        add_chunk(page);
        std::memcpy(chunks_.back().buffer->data(), head_page.data(), head_page.size());
    }
}

void LogTail::add_chunk(uint64_t position) {
    RL_ASSERT(position % limits::dma_alignment == 0);
    // Past the shard's budget the log still makes progress, on an overflow chunk the pool
    // keeps for reuse; the miss is counted so the budget can be raised, and the logs write
    // and release their tails promptly meanwhile (Log::tail_memory_short()).
    io::BufferRef buffer = pool_ != nullptr ? pool_->get() : io::BufferRef::allocate(chunk_bytes_);
    pool_misses_ += buffer->overflow() ? 1 : 0;
    chunks_.push_back({std::move(buffer), position});
}

const LogTail::Chunk& LogTail::chunk_at(uint64_t position) const {
    RL_ASSERT(!chunks_.empty() && position >= chunks_.front().position);
    const size_t index = (position - chunks_.front().position) / chunk_bytes_;
    RL_ASSERT(index < chunks_.size(), "position %d beyond the tail", position);
    return chunks_[index];
}

void LogTail::append(std::span<const std::byte> bytes) {
    while (!bytes.empty()) {
        if (chunks_.empty() || end_ == chunks_.back().position + chunk_bytes_) {
            add_chunk(end_);
        }
        const Chunk& chunk = chunks_.back();
        const size_t offset = end_ - chunk.position;
        const size_t count = std::min(bytes.size(), chunk_bytes_ - offset);
        std::memcpy(chunk.buffer->data() + offset, bytes.data(), count);
        end_ += count;
        bytes = bytes.subspan(count);
    }
}

uint32_t LogTail::append_and_crc(std::span<const std::byte> bytes, size_t crc_from) {
    constexpr size_t block_bytes = 4 * 1024;  // measured best (bench/micro/log_tail_bench.cc)
    uint32_t crc = 0;
    size_t done = 0;
    while (done < bytes.size()) {
        if (chunks_.empty() || end_ == chunks_.back().position + chunk_bytes_) {
            add_chunk(end_);
        }
        const Chunk& chunk = chunks_.back();
        const size_t offset = end_ - chunk.position;
        const size_t count = std::min({bytes.size() - done, chunk_bytes_ - offset, block_bytes});
        std::byte* target = chunk.buffer->data() + offset;
        std::memcpy(target, bytes.data() + done, count);
        if (done + count > crc_from) {
            const size_t skip = crc_from > done ? crc_from - done : 0;
            // The source block, not the copy: the copy just pulled it into L1, while the
            // target may have been written around the cache (rep movsb streams large copies).
            crc = net::kafka::crc32c(bytes.subspan(done + skip, count - skip), crc);
        }
        end_ += count;
        done += count;
    }
    return crc;
}

void LogTail::overwrite(uint64_t position, std::span<const std::byte> bytes) {
    RL_ASSERT(contains(position, bytes.size()));
    while (!bytes.empty()) {
        const Chunk& chunk = chunk_at(position);
        const size_t offset = position - chunk.position;
        const size_t count = std::min(bytes.size(), chunk_bytes_ - offset);
        std::memcpy(chunk.buffer->data() + offset, bytes.data(), count);
        position += count;
        bytes = bytes.subspan(count);
    }
}

void LogTail::copy_out(uint64_t position, std::span<std::byte> out) const {
    RL_ASSERT(contains(position, out.size()));
    while (!out.empty()) {
        const Chunk& chunk = chunk_at(position);
        const size_t offset = position - chunk.position;
        const size_t count = std::min(out.size(), chunk_bytes_ - offset);
        std::memcpy(out.data(), chunk.buffer->data() + offset, count);
        position += count;
        out = out.subspan(count);
    }
}

void LogTail::append_views(uint64_t position, uint64_t length,
                           std::vector<io::BufferView>& views) const {
    RL_ASSERT(contains(position, length));
    while (length > 0) {
        const Chunk& chunk = chunk_at(position);
        const size_t offset = position - chunk.position;
        const size_t count = std::min<uint64_t>(length, chunk_bytes_ - offset);
        if (!views.empty() && views.back().buffer.get() == chunk.buffer.get()
            && views.back().offset + views.back().length == offset) {
            views.back().length += count;
        } else {
            views.push_back({chunk.buffer, offset, count});
        }
        position += count;
        length -= count;
    }
}

std::vector<LogTail::WriteRange> LogTail::write_ranges(uint64_t from, size_t max_bytes) {
    std::vector<WriteRange> ranges;
    uint64_t position = std::max(align_down(from), first_position());
    const uint64_t end = align_up(end_);
    if (position >= end) {
        return ranges;
    }
    // The last block is partial: zero what follows end_ so the disk gets zeros after the data.
    const Chunk& last = chunk_at(end_ == end ? end_ - 1 : end_);
    const size_t slack_offset = end_ - last.position;
    std::memset(last.buffer->data() + slack_offset, 0, end - end_);

    while (position < end) {
        const Chunk& chunk = chunk_at(position);
        const size_t offset = position - chunk.position;
        const size_t count = std::min<uint64_t>({end - position, chunk_bytes_ - offset, max_bytes});
        ranges.push_back(
            {position, {chunk.buffer->data() + offset, count}, chunk.buffer->fixed_index()});
        position += count;
    }
    return ranges;
}

void LogTail::release_before(uint64_t position) {
    while (chunks_.size() > 1 && chunks_.front().position + chunk_bytes_ <= position
           && chunks_.front().position + chunk_bytes_ <= end_) {
        chunks_.pop_front();
    }
}

void LogTail::truncate(uint64_t position) {
    RL_ASSERT(position <= end_ && position >= first_position());
    end_ = position;
    while (!chunks_.empty() && chunks_.back().position > position) {
        chunks_.pop_back();
    }
}

}  // namespace ringlog::core
