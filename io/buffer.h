// Buffers that outlive a single call: aligned (usable for O_DIRECT), reference counted within
// one shard (plain integer, no atomics: a buffer never changes threads while referenced), and
// sliceable into views. The log's tail chunks and O_DIRECT read buffers are Buffers, and a
// fetch response is a list of BufferViews sent without copying the bytes.
//
// A Buffer comes from a BufferPool (preallocated, maybe registered with the ring as fixed
// buffers) or is allocated alone. When its last reference goes, it returns to its pool.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "io/base/assert.h"

namespace ringlog::io {

class BufferPool;

class Buffer {
public:
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;

    std::byte* data() const { return data_; }

    size_t size() const { return size_; }

    std::span<std::byte> span() const { return {data_, size_}; }

    // Index in the ring's fixed-buffer table, or -1 if this buffer is not registered.
    int fixed_index() const { return fixed_index_; }

    uint32_t ref_count() const { return refs_; }

    // Made by a BufferPool beyond its fixed set (BufferPool::get()).
    bool overflow() const { return overflow_; }

private:
    friend class BufferRef;
    friend class BufferPool;

    Buffer(std::byte* data, size_t size, BufferPool* pool)
        : data_(data), size_(size), pool_(pool) {}

    ~Buffer() = default;

    void release();

    std::byte* data_;
    size_t size_;
    BufferPool* pool_;  // nullptr: allocated alone, freed at the last release.
    uint32_t refs_ = 0;
    int fixed_index_ = -1;
    bool overflow_ = false;
};

// An owning reference to a Buffer. Copying adds a reference; destruction drops one.
class BufferRef {
public:
    BufferRef() = default;

    explicit BufferRef(Buffer* buffer) : buffer_(buffer) { acquire(); }

    BufferRef(const BufferRef& other) : buffer_(other.buffer_) { acquire(); }

    BufferRef(BufferRef&& other) noexcept : buffer_(std::exchange(other.buffer_, nullptr)) {}

    BufferRef& operator=(BufferRef other) noexcept {
        std::swap(buffer_, other.buffer_);
        return *this;
    }

    ~BufferRef() { reset(); }

    // An aligned buffer of `size` bytes (rounded up to the DMA alignment), not from a pool.
    static BufferRef allocate(size_t size);

    void reset() {
        if (buffer_ != nullptr) {
            std::exchange(buffer_, nullptr)->release();
        }
    }

    Buffer* get() const { return buffer_; }

    Buffer* operator->() const { return buffer_; }

    explicit operator bool() const { return buffer_ != nullptr; }

private:
    void acquire() {
        if (buffer_ != nullptr) {
            ++buffer_->refs_;
        }
    }

    Buffer* buffer_ = nullptr;
};

// A range of bytes inside a Buffer, keeping the buffer alive.
struct BufferView {
    BufferRef buffer;
    size_t offset = 0;
    size_t length = 0;

    std::span<const std::byte> bytes() const { return {buffer->data() + offset, length}; }
};

// A fixed set of equal-sized aligned buffers carved from one allocation, touched at creation
// (and maybe registered with a ring), plus the overflow buffers get() made when the set was in
// use. try_get() never allocates: an empty pool is the caller's back-pressure signal. The pool
// must outlive every reference to its buffers.
class BufferPool {
public:
    BufferPool(size_t buffer_bytes, size_t count);
    ~BufferPool();

    BufferPool(const BufferPool&) = delete;
    BufferPool& operator=(const BufferPool&) = delete;

    // A free buffer of the fixed set, or an empty ref when all are in use.
    BufferRef try_get();

    // A free buffer of the fixed set, else an overflow buffer: one given back earlier, or a new
    // one. Overflow buffers are never registered and stay with the pool once made, so a shard
    // whose logs want more than the set faults each page in once; a buffer freed to malloc
    // comes back from the kernel zeroed, page by page, each time (at 1,000 partitions that was
    // half the broker's CPU).
    BufferRef get();

    size_t buffer_bytes() const { return buffer_bytes_; }

    size_t count() const { return buffers_.size(); }

    size_t available() const { return free_.size(); }

    // Overflow buffers made so far, and how many of them are free.
    size_t overflow_count() const { return overflow_.size(); }

    size_t overflow_available() const { return overflow_free_.size(); }

    // Bytes of the buffers in use, fixed and overflow.
    size_t in_use_bytes() const {
        return (count() - available() + overflow_count() - overflow_available()) * buffer_bytes_;
    }

    // The whole region, for registration with a ring as fixed buffers.
    std::span<std::byte> region() const { return {region_, buffer_bytes_ * buffers_.size()}; }

    // Called by the reactor once it has registered buffer i as fixed buffer first_index + i.
    void set_fixed_indexes(int first_index);

    std::span<Buffer* const> buffers() const { return buffers_; }

private:
    friend class Buffer;

    void give_back(Buffer* buffer) {
        (buffer->overflow_ ? overflow_free_ : free_).push_back(buffer);
    }

    size_t buffer_bytes_;
    std::byte* region_;
    std::vector<Buffer*> buffers_;
    std::vector<Buffer*> free_;
    std::vector<Buffer*> overflow_;  // each owns its own allocation
    std::vector<Buffer*> overflow_free_;
};

inline void Buffer::release() {
    RL_ASSERT(refs_ > 0);
    if (--refs_ == 0) {
        if (pool_ != nullptr) {
            pool_->give_back(this);
        } else {
            std::free(data_);
            delete this;
        }
    }
}

}  // namespace ringlog::io
