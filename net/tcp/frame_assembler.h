// FrameAssembler: cuts a TCP byte stream into Kafka frames (an int32 big-endian size, then that
// many bytes). Pure logic, no I/O: the connection feeds it whatever each receive returned.
// A frame lying inside one chunk is handed out in place; one that spans chunks is copied into
// an owned buffer, because the decoder needs a frame's bytes contiguous. The rest of a large
// spanning frame can instead be received straight into that buffer (receive_space()), which
// saves the connection that copy: a 1 MiB produce request would otherwise cross memory twice
// after the kernel's own copy.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
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
// - Between feeds, a frame whose size is known but whose bytes have not all arrived can be
//   completed by receiving into receive_space() and calling commit_received(); feed() and
//   commit_received() may alternate in any order, as the stream's bytes arrive.
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

    // Bytes the frame in progress still lacks; 0 between frames (also while a size prefix is
    // split: its frame's size is not known yet).
    size_t missing_bytes() const { return in_frame_ ? frame_bytes_ - partial_.size() : 0; }

    // Where the next bytes of the frame in progress go, for a receive straight into the
    // assembler: the first of missing_bytes(), but at most max(1 MiB, what has arrived so far),
    // so that memory follows the bytes a peer actually sends, not the size it claims.
    // Empty when missing_bytes() is 0. Valid until the next call of any other member.
    std::span<std::byte> receive_space();

    // `count` bytes (at most receive_space().size()) were received into receive_space(). If
    // they complete the frame it is appended to `frames`, valid until the next feed() or
    // commit_received().
    void commit_received(size_t count, std::vector<Frame>& frames);

private:
    // A growable byte buffer that, unlike std::vector, leaves new capacity uninitialised: a
    // receive overwrites it anyway, and zeroing a megabyte would cost what the copy did.
    class Bytes {
    public:
        size_t size() const { return size_; }

        std::byte* data() { return data_.get(); }

        const std::byte* data() const { return data_.get(); }

        void clear() { size_ = 0; }

        void reserve(size_t capacity);  // keeps the contents
        void append(std::span<const std::byte> bytes);
        // The next `count` bytes after size(), within the capacity, now hold data.
        void grow_into(size_t count);

        std::span<std::byte> spare() { return {data_.get() + size_, capacity_ - size_}; }

    private:
        std::unique_ptr<std::byte[]> data_;
        size_t size_ = 0;
        size_t capacity_ = 0;
    };

    // Reads a size prefix; false (and the status in failed_) when the peer sent a bad one.
    bool accept_size(uint32_t raw);
    // Starts assembling a frame of frame_bytes_ whose first bytes are `start`.
    void begin_partial(std::span<const std::byte> start);
    // partial_ holds the whole frame: it becomes assembled_ and is appended to `frames`.
    void finish_partial(std::vector<Frame>& frames);

    size_t frame_bytes_max_;
    // A size prefix split across chunks: its first bytes.
    std::array<std::byte, 4> size_bytes_{};
    size_t size_bytes_count_ = 0;
    // A frame split across chunks: its size is known and partial_ holds what arrived so far.
    bool in_frame_ = false;
    size_t frame_bytes_ = 0;
    Bytes partial_;
    // The last spanning frame completed, handed out until the next feed().
    Bytes assembled_;
    absl::Status failed_;
};

}  // namespace ringlog::net::tcp
