// A sliding window of a file read with O_DIRECT into an aligned buffer: scans and reads ask for
// byte ranges and the window re-reads (block-aligned, at least window_bytes) only when a range
// is not already in memory. Views handed out keep their buffer alive after the window moves.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include <absl/status/status.h>

#include "io/buffer.h"
#include "io/file.h"
#include "io/task.h"

namespace ringlog::core {

class FileWindow {
public:
    // Reads never go past `limit` (the end of the valid data, or of the file).
    FileWindow(io::File& file, uint64_t limit, size_t window_bytes)
        : file_(file), limit_(limit), window_bytes_(window_bytes) {}

    // Makes [position, position + length) available if the file has it. Afterwards
    // available(position) says how much of it there is (less only at the limit).
    [[nodiscard]] io::Task<absl::Status> ensure(uint64_t position, uint64_t length);

    uint64_t available(uint64_t position) const;

    // Bytes in the window; [position, position + length) must be available.
    std::span<const std::byte> bytes(uint64_t position, uint64_t length) const;

    void append_views(uint64_t position, uint64_t length, std::vector<io::BufferView>& views) const;

    uint64_t limit() const { return limit_; }

    void set_limit(uint64_t limit) { limit_ = limit; }

private:
    io::File& file_;
    uint64_t limit_;
    size_t window_bytes_;
    io::BufferRef buffer_;
    uint64_t start_ = 0;
    uint64_t length_ = 0;
};

}  // namespace ringlog::core
