// Rounding to the DMA alignment, which every O_DIRECT position, length and buffer address must
// respect. Worked example with 4096: align_down(5000) = 4096, align_up(5000) = 8192,
// align_up(8192) = 8192.
#pragma once

#include <cstdint>

#include "io/base/limits.h"

namespace ringlog::base {

constexpr uint64_t align_down(uint64_t value) {
    return value / limits::dma_alignment * limits::dma_alignment;
}

constexpr uint64_t align_up(uint64_t value) {
    return align_down(value + limits::dma_alignment - 1);
}

static_assert(align_down(5000) == 4096 && align_up(5000) == 8192 && align_up(8192) == 8192);

}  // namespace ringlog::base
