#include "io/buffer.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include "io/base/limits.h"

namespace ringlog::io {

namespace {

size_t align_up(size_t size) {
    return (size + limits::dma_alignment - 1) / limits::dma_alignment * limits::dma_alignment;
}

std::byte* aligned_bytes(size_t size) {
    void* memory = std::aligned_alloc(limits::dma_alignment, size);
    if (memory == nullptr) {
        throw std::bad_alloc();
    }
    return static_cast<std::byte*>(memory);
}

}  // namespace

BufferRef BufferRef::allocate(size_t size) {
    const size_t aligned = align_up(size == 0 ? 1 : size);
    std::byte* data = aligned_bytes(aligned);
    return BufferRef(new Buffer(data, aligned, nullptr));
}

BufferPool::BufferPool(size_t buffer_bytes, size_t count) : buffer_bytes_(align_up(buffer_bytes)) {
    RL_ASSERT(count > 0);
    region_ = aligned_bytes(buffer_bytes_ * count);
    // Touch the memory now so the first use on the data path does not page-fault.
    std::memset(region_, 0, buffer_bytes_ * count);
    buffers_.reserve(count);
    free_.reserve(count);
    for (size_t i = 0; i < count; ++i) {
        buffers_.push_back(new Buffer(region_ + i * buffer_bytes_, buffer_bytes_, this));
    }
    for (size_t i = count; i > 0; --i) {
        free_.push_back(buffers_[i - 1]);
    }
}

BufferPool::~BufferPool() {
    for (Buffer* buffer : buffers_) {
        RL_ASSERT(buffer->refs_ == 0, "a pool buffer is still referenced at pool destruction");
        delete buffer;
    }
    for (Buffer* buffer : overflow_) {
        RL_ASSERT(buffer->refs_ == 0, "a pool buffer is still referenced at pool destruction");
        std::free(buffer->data_);
        delete buffer;
    }
    std::free(region_);
}

BufferRef BufferPool::get() {
    if (BufferRef fixed = try_get()) {
        return fixed;
    }
    if (!overflow_free_.empty()) {
        Buffer* buffer = overflow_free_.back();
        overflow_free_.pop_back();
        return BufferRef(buffer);
    }
    auto* buffer = new Buffer(aligned_bytes(buffer_bytes_), buffer_bytes_, this);
    buffer->overflow_ = true;
    overflow_.push_back(buffer);
    return BufferRef(buffer);
}

BufferRef BufferPool::try_get() {
    if (free_.empty()) {
        return {};
    }
    Buffer* buffer = free_.back();
    free_.pop_back();
    return BufferRef(buffer);
}

void BufferPool::set_fixed_indexes(int first_index) {
    for (size_t i = 0; i < buffers_.size(); ++i) {
        buffers_[i]->fixed_index_ = first_index + static_cast<int>(i);
    }
}

}  // namespace ringlog::io
