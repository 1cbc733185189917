// A sparse, sorted index from a key to a value, one per segment and kind:
//   offset index: key = offset, value = byte position of the batch that starts there;
//   time index:   key = max timestamp seen so far, value = the offset of the batch that has it.
// Both keys and values only grow, so a lookup is a binary search for the last key <= target.
//
// The active segment's indexes live in memory and are rebuilt by recovery; a sealed segment's
// are written once, with a CRC trailer, so that a damaged or missing file is detected and
// rebuilt from the segment instead of trusted.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include <absl/status/status.h>
#include <absl/status/statusor.h>

namespace ringlog::core {

class SegmentIndex {
public:
    struct Entry {
        int64_t key;
        int64_t value;

        bool operator==(const Entry&) const = default;
    };

    // Appends an entry; keys must strictly increase and values must not decrease.
    void append(int64_t key, int64_t value);

    // The last entry with key <= target, or nullopt if every key is greater.
    std::optional<Entry> floor(int64_t target) const;

    // The first entry with key >= target, or nullopt.
    std::optional<Entry> ceiling(int64_t target) const;

    std::optional<Entry> last() const;

    std::span<const Entry> entries() const { return entries_; }

    bool empty() const { return entries_.empty(); }

    void clear() { entries_.clear(); }

    // The on-disk form: entries (16 bytes each, big-endian) then a 24-byte trailer with a
    // magic number, the entry count and a CRC-32C of the entries.
    std::vector<std::byte> serialize() const;

    // Parses and checks the on-disk form; kDataLoss if anything does not add up.
    [[nodiscard]] static absl::StatusOr<SegmentIndex> deserialize(std::span<const std::byte> bytes);

private:
    std::vector<Entry> entries_;
};

}  // namespace ringlog::core
