// Kafka offsets as a strong type: an offset is not a byte position, a count or a timestamp.
#pragma once

#include <cstdint>

#include "io/base/strong_int.h"

namespace ringlog::core {

using Offset = base::StrongInt<struct OffsetTag, int64_t>;

}  // namespace ringlog::core
