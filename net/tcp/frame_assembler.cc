// FrameAssembler: see frame_assembler.h. The fast path walks the chunk in place; only the
// frame at either end of a chunk can need copying.
#include "net/tcp/frame_assembler.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <utility>

#include <absl/strings/str_cat.h>

#include "io/base/assert.h"

namespace ringlog::net::tcp {

namespace {

// A peer's claimed size is not trusted with memory up front: beyond this the buffer grows as
// bytes actually arrive.
constexpr size_t reserve_bytes_max = 1024 * 1024;

uint32_t load_be32(const std::byte* bytes) {
    uint32_t value;
    std::memcpy(&value, bytes, sizeof(value));
    return __builtin_bswap32(value);
}

}  // namespace

bool FrameAssembler::accept_size(uint32_t raw) {
    const auto size = static_cast<int32_t>(raw);
    if (size < 0) {
        failed_ = absl::InvalidArgumentError(absl::StrCat("negative frame size ", size));
    } else if (static_cast<size_t>(size) > frame_bytes_max_) {
        failed_ = absl::InvalidArgumentError(
            absl::StrCat("frame of ", size, " bytes exceeds the maximum of ", frame_bytes_max_));
    } else {
        frame_bytes_ = static_cast<size_t>(size);
        return true;
    }
    return false;
}

void FrameAssembler::Bytes::reserve(size_t capacity) {
    if (capacity <= capacity_) {
        return;
    }
    auto grown = std::make_unique_for_overwrite<std::byte[]>(capacity);
    if (size_ > 0) {
        std::memcpy(grown.get(), data_.get(), size_);
    }
    data_ = std::move(grown);
    capacity_ = capacity;
}

void FrameAssembler::Bytes::append(std::span<const std::byte> bytes) {
    if (bytes.empty()) {
        return;
    }
    if (size_ + bytes.size() > capacity_) {
        reserve(std::max(size_ + bytes.size(), 2 * capacity_));
    }
    std::memcpy(data_.get() + size_, bytes.data(), bytes.size());
    size_ += bytes.size();
}

void FrameAssembler::Bytes::grow_into(size_t count) {
    RL_ASSERT(size_ + count <= capacity_);
    size_ += count;
}

size_t FrameAssembler::pending_bytes() const {
    return in_frame_ ? 4 + partial_.size() : size_bytes_count_;
}

void FrameAssembler::begin_partial(std::span<const std::byte> start) {
    in_frame_ = true;
    partial_.clear();
    partial_.reserve(std::min(frame_bytes_, reserve_bytes_max));
    partial_.append(start);
}

void FrameAssembler::finish_partial(std::vector<Frame>& frames) {
    RL_ASSERT(in_frame_ && partial_.size() == frame_bytes_);
    in_frame_ = false;
    // partial_ keeps assembled_'s old capacity for the next spanning frame.
    std::swap(assembled_, partial_);
    partial_.clear();
    frames.push_back(Frame(assembled_.data(), assembled_.size()));
}

std::span<std::byte> FrameAssembler::receive_space() {
    if (!in_frame_ || !failed_.ok()) {
        return {};
    }
    const size_t missing = frame_bytes_ - partial_.size();
    const size_t offered = std::min(missing, std::max(reserve_bytes_max, partial_.size()));
    partial_.reserve(partial_.size() + offered);
    return partial_.spare().first(offered);
}

void FrameAssembler::commit_received(size_t count, std::vector<Frame>& frames) {
    RL_ASSERT(in_frame_ && count <= frame_bytes_ - partial_.size());
    partial_.grow_into(count);
    if (partial_.size() == frame_bytes_) {
        finish_partial(frames);
    }
}

absl::Status FrameAssembler::feed(std::span<const std::byte> chunk, std::vector<Frame>& frames) {
    if (!failed_.ok()) {
        return failed_;
    }
    size_t position = 0;
    // Finish what the previous chunks left: first the size prefix, then the frame.
    if (size_bytes_count_ > 0) {
        const size_t take = std::min(4 - size_bytes_count_, chunk.size());
        std::memcpy(size_bytes_.data() + size_bytes_count_, chunk.data(), take);
        size_bytes_count_ += take;
        position += take;
        if (size_bytes_count_ < 4) {
            return absl::OkStatus();
        }
        size_bytes_count_ = 0;
        if (!accept_size(load_be32(size_bytes_.data()))) {
            return failed_;
        }
        begin_partial({});
    }
    if (in_frame_) {
        const size_t take = std::min(frame_bytes_ - partial_.size(), chunk.size() - position);
        partial_.append(chunk.subspan(position, take));
        position += take;
        if (partial_.size() < frame_bytes_) {
            return absl::OkStatus();
        }
        finish_partial(frames);
    }
    // Whole frames in place.
    while (chunk.size() - position >= 4) {
        if (!accept_size(load_be32(chunk.data() + position))) {
            return failed_;
        }
        if (chunk.size() - position - 4 < frame_bytes_) {
            break;
        }
        frames.push_back(chunk.subspan(position + 4, frame_bytes_));
        position += 4 + frame_bytes_;
    }
    // The start of a frame that continues in the next chunk.
    const size_t rest = chunk.size() - position;
    if (rest >= 4) {
        begin_partial(chunk.subspan(position + 4));
    } else if (rest > 0) {
        std::memcpy(size_bytes_.data(), chunk.data() + position, rest);
        size_bytes_count_ = rest;
    }
    return absl::OkStatus();
}

}  // namespace ringlog::net::tcp
