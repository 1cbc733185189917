// Value types that the generated Kafka codec uses for spec types with no plain C++ equivalent:
// `uuid` and `records`, plus content comparisons for byte views. Decoded strings and bytes are
// views into the request frame; nothing here owns message bytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstring>
#include <optional>
#include <span>

#include <absl/container/inlined_vector.h>

#include "io/base/assert.h"

namespace ringlog::net::kafka {

// A spec `uuid`: 16 bytes on the wire, high 64 bits first. All zero means "no UUID".
using Uuid = std::array<std::byte, 16>;

using ByteView = std::span<const std::byte>;

// A spec `records` field: the record batches of one partition, nullable. Decoding yields one
// contiguous view into the frame. For encoding, the batches may be several views (a fetch that
// spans two log-tail chunks); the writer sends them as external segments, never copying them,
// so whatever owns those bytes must outlive the send.
class Records {
public:
    // A null `records` (length -1 on the wire).
    Records() = default;

    // Non-null records holding `bytes` (which may be empty).
    explicit Records(ByteView bytes) : null_(false), size_bytes_(bytes.size()) {
        if (!bytes.empty()) {
            segments_.push_back(bytes);
        }
    }

    // Back to null, without moving an InlinedVector around (g++ 12 at -O2 warns, wrongly, that
    // a moved-from temporary's storage may be uninitialized).
    void reset() {
        segments_.clear();
        null_ = true;
        size_bytes_ = 0;
    }

    bool is_null() const { return null_; }

    size_t size_bytes() const { return size_bytes_; }

    // Adds `bytes` after the current segments; the records become non-null.
    void append(ByteView bytes) {
        null_ = false;
        size_bytes_ += bytes.size();
        if (!bytes.empty()) {
            segments_.push_back(bytes);
        }
    }

    std::span<const ByteView> segments() const { return {segments_.data(), segments_.size()}; }

    // The bytes as one view. Decoded records always are one; built ones must have one segment.
    ByteView bytes() const {
        RL_ASSERT(segments_.size() <= 1, "records built from %d segments", segments_.size());
        return segments_.empty() ? ByteView{} : segments_[0];
    }

    // Equal when both are null, or both hold the same bytes however they are split.
    friend bool operator==(const Records& a, const Records& b);

private:
    absl::InlinedVector<ByteView, 2> segments_;
    bool null_ = true;
    size_t size_bytes_ = 0;
};

// Content comparisons for byte views, which std::span does not define. The generated
// operator== of every struct uses these for `bytes` fields.
inline bool bytes_equal(ByteView a, ByteView b) {
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

inline bool bytes_equal(const std::optional<ByteView>& a, const std::optional<ByteView>& b) {
    if (a.has_value() != b.has_value()) {
        return false;
    }
    return !a.has_value() || bytes_equal(*a, *b);
}

}  // namespace ringlog::net::kafka
