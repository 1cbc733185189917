// Comparison of Records by content, whatever segments they are split into.
#include "net/kafka/protocol/types.h"

#include <algorithm>

namespace ringlog::net::kafka {

bool operator==(const Records& a, const Records& b) {
    if (a.is_null() != b.is_null() || a.size_bytes() != b.size_bytes()) {
        return false;
    }
    // Walk both segment lists at once, comparing the overlap of the current pair.
    std::span<const ByteView> left = a.segments();
    std::span<const ByteView> right = b.segments();
    size_t left_offset = 0;
    size_t right_offset = 0;
    while (!left.empty() && !right.empty()) {
        const ByteView x = left.front().subspan(left_offset);
        const ByteView y = right.front().subspan(right_offset);
        const size_t overlap = std::min(x.size(), y.size());
        if (std::memcmp(x.data(), y.data(), overlap) != 0) {
            return false;
        }
        left_offset += overlap;
        right_offset += overlap;
        if (left_offset == left.front().size()) {
            left = left.subspan(1);
            left_offset = 0;
        }
        if (right_offset == right.front().size()) {
            right = right.subspan(1);
            right_offset = 0;
        }
    }
    return true;
}

}  // namespace ringlog::net::kafka
