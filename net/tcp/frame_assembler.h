// FrameAssembler: cuts a TCP byte stream into Kafka frames (an int32 big-endian size, then that
// many bytes). Pure logic, no I/O: the connection feeds it whatever each receive returned.
// A frame lying inside one chunk is handed out in place; one that spans chunks is copied into
// an owned buffer, because the decoder needs a frame's bytes contiguous.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <absl/status/status.h>

namespace ringlog::net::tcp {

// Kafka's socket.request.max.bytes default.
inline constexpr size_t frame_bytes_max_default = 100 * 1024 * 1024;

// Contract:
// - feed() appends every frame completed by `chunk` to `frames`, in stream order, as the
//   payload without its size prefix. The spans point into `chunk` or into the assembler and
//   stay valid until the next feed() (or the assembler's destruction), no longer.
// - A size above frame_bytes_max or below zero is the peer's fault: feed() returns
//   kInvalidArgument (frames completed before it in the same chunk are still appended) and
//   the assembler is spent; the connection must close.
class FrameAssembler {
public:
    using Frame = std::span<const std::byte>;

    explicit FrameAssembler(size_t frame_bytes_max = frame_bytes_max_default)
        : frame_bytes_max_(frame_bytes_max) {}

    [[nodiscard]] absl::Status feed(std::span<const std::byte> chunk, std::vector<Frame>& frames);

    // Bytes of an unfinished frame held back (its size prefix included): non-zero at EOF means
    // the peer went away mid-frame.
    size_t pending_bytes() const;

    size_t frame_bytes_max() const { return frame_bytes_max_; }

private:
    // Reads a size prefix; false (and the status in failed_) when the peer sent a bad one.
    bool accept_size(uint32_t raw);

    size_t frame_bytes_max_;
    // A size prefix split across chunks: its first bytes.
    std::array<std::byte, 4> size_bytes_{};
    size_t size_bytes_count_ = 0;
    // A frame split across chunks: its size is known and partial_ holds what arrived so far.
    bool in_frame_ = false;
    size_t frame_bytes_ = 0;
    std::vector<std::byte> partial_;
    // The last spanning frame completed, handed out until the next feed().
    std::vector<std::byte> assembled_;
    absl::Status failed_;
};

}  // namespace ringlog::net::tcp
