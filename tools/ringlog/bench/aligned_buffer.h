// A page-aligned, pattern-filled buffer for the probe's O_DIRECT writes (O_DIRECT wants the
// memory, the offset and the length aligned to the device's block; 4 KiB covers them all).
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "io/base/assert.h"

namespace ringlog::tools::bench {

struct AlignedFree {
    void operator()(std::byte* p) const { std::free(p); }
};

using AlignedBuffer = std::unique_ptr<std::byte, AlignedFree>;

inline AlignedBuffer aligned_buffer(size_t bytes) {
    void* p = nullptr;
    RL_ASSERT(::posix_memalign(&p, 4096, bytes) == 0);
    std::memset(p, 0x5a, bytes);
    return AlignedBuffer(static_cast<std::byte*>(p));
}

}  // namespace ringlog::tools::bench
