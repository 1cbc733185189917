// FrameAssembler: see frame_assembler.h. The fast path walks the chunk in place; only the
// frame at either end of a chunk can need copying.
#include "net/tcp/frame_assembler.h"

#include <algorithm>
#include <cstring>

#include <absl/strings/str_cat.h>

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

size_t FrameAssembler::pending_bytes() const {
    return in_frame_ ? 4 + partial_.size() : size_bytes_count_;
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
        in_frame_ = true;
        partial_.clear();
        partial_.reserve(std::min(frame_bytes_, reserve_bytes_max));
    }
    if (in_frame_) {
        const size_t take = std::min(frame_bytes_ - partial_.size(), chunk.size() - position);
        partial_.insert(partial_.end(), chunk.data() + position, chunk.data() + position + take);
        position += take;
        if (partial_.size() < frame_bytes_) {
            return absl::OkStatus();
        }
        in_frame_ = false;
        // partial_ keeps assembled_'s old capacity for the next spanning frame.
        std::swap(assembled_, partial_);
        partial_.clear();
        frames.push_back(Frame(assembled_.data(), assembled_.size()));
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
        in_frame_ = true;
        partial_.clear();
        partial_.reserve(std::min(frame_bytes_, reserve_bytes_max));
        partial_.insert(partial_.end(), chunk.data() + position + 4, chunk.data() + chunk.size());
    } else if (rest > 0) {
        std::memcpy(size_bytes_.data(), chunk.data() + position, rest);
        size_bytes_count_ = rest;
    }
    return absl::OkStatus();
}

}  // namespace ringlog::net::tcp
