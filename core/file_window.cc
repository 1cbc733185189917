#include "core/file_window.h"

#include <algorithm>

#include "io/base/align.h"
#include "io/base/assert.h"
#include "io/base/limits.h"
#include "io/base/status_macros.h"

namespace ringlog::core {

using base::align_down;
using base::align_up;

io::Task<absl::Status> FileWindow::ensure(uint64_t position, uint64_t length) {
    const uint64_t end = std::min(position + length, limit_);
    if (buffer_ && position >= start_ && end <= start_ + length_) {
        co_return absl::OkStatus();
    }
    const uint64_t read_start = align_down(position);
    const uint64_t read_end = align_up(std::min(limit_, std::max(end, read_start + window_bytes_)));
    if (read_end <= read_start) {
        buffer_.reset();
        start_ = position;
        length_ = 0;
        co_return absl::OkStatus();
    }
    // A fresh buffer each time: views taken from the previous one may still be in use.
    io::BufferRef buffer = io::BufferRef::allocate(read_end - read_start);
    RL_CO_ASSIGN_OR_RETURN(
        size_t count,
        co_await io::read_all(file_, read_start, {buffer->data(), read_end - read_start}));
    buffer_ = std::move(buffer);
    start_ = read_start;
    length_ = std::min<uint64_t>(count, limit_ - read_start);
    co_return absl::OkStatus();
}

uint64_t FileWindow::available(uint64_t position) const {
    if (!buffer_ || position < start_ || position >= start_ + length_) {
        return 0;
    }
    return start_ + length_ - position;
}

std::span<const std::byte> FileWindow::bytes(uint64_t position, uint64_t length) const {
    RL_ASSERT(available(position) >= length);
    return {buffer_->data() + (position - start_), length};
}

void FileWindow::append_views(uint64_t position, uint64_t length,
                              std::vector<io::BufferView>& views) const {
    RL_ASSERT(available(position) >= length);
    const size_t offset = position - start_;
    if (!views.empty() && views.back().buffer.get() == buffer_.get()
        && views.back().offset + views.back().length == offset) {
        views.back().length += length;
        return;
    }
    views.push_back({buffer_, offset, length});
}

}  // namespace ringlog::core
