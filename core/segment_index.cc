#include "core/segment_index.h"

#include <algorithm>

#include <absl/strings/str_cat.h>

#include "io/base/assert.h"
#include "net/kafka/crc32c.h"

namespace ringlog::core {

namespace {

constexpr uint32_t trailer_magic = 0x524c4958;  // "RLIX"
constexpr size_t entry_bytes = 16;
constexpr size_t trailer_bytes = 24;

void put_u64(std::byte* out, uint64_t value) {
    for (int i = 7; i >= 0; --i) {
        out[i] = static_cast<std::byte>(value & 0xff);
        value >>= 8;
    }
}

uint64_t get_u64(const std::byte* in) {
    uint64_t value = 0;
    for (int i = 0; i < 8; ++i) {
        value = (value << 8) | static_cast<uint8_t>(in[i]);
    }
    return value;
}

}  // namespace

void SegmentIndex::append(int64_t key, int64_t value) {
    if (!entries_.empty()) {
        RL_ASSERT(key > entries_.back().key, "index key %d after %d", key, entries_.back().key);
        RL_ASSERT(value >= entries_.back().value);
    }
    entries_.push_back({key, value});
}

std::optional<SegmentIndex::Entry> SegmentIndex::floor(int64_t target) const {
    auto it = std::upper_bound(entries_.begin(), entries_.end(), target,
                               [](int64_t t, const Entry& e) { return t < e.key; });
    if (it == entries_.begin()) {
        return std::nullopt;
    }
    return *(it - 1);
}

std::optional<SegmentIndex::Entry> SegmentIndex::ceiling(int64_t target) const {
    auto it = std::lower_bound(entries_.begin(), entries_.end(), target,
                               [](const Entry& e, int64_t t) { return e.key < t; });
    if (it == entries_.end()) {
        return std::nullopt;
    }
    return *it;
}

std::optional<SegmentIndex::Entry> SegmentIndex::last() const {
    if (entries_.empty()) {
        return std::nullopt;
    }
    return entries_.back();
}

std::vector<std::byte> SegmentIndex::serialize() const {
    std::vector<std::byte> bytes(entries_.size() * entry_bytes + trailer_bytes);
    std::byte* out = bytes.data();
    for (const Entry& entry : entries_) {
        put_u64(out, static_cast<uint64_t>(entry.key));
        put_u64(out + 8, static_cast<uint64_t>(entry.value));
        out += entry_bytes;
    }
    const uint32_t crc = net::kafka::crc32c({bytes.data(), entries_.size() * entry_bytes});
    put_u64(out, (uint64_t{trailer_magic} << 32) | crc);
    put_u64(out + 8, entries_.size());
    put_u64(out + 16, 0);
    return bytes;
}

absl::StatusOr<SegmentIndex> SegmentIndex::deserialize(std::span<const std::byte> bytes) {
    if (bytes.size() < trailer_bytes || (bytes.size() - trailer_bytes) % entry_bytes != 0) {
        return absl::DataLossError(absl::StrCat("index of ", bytes.size(), " bytes is torn"));
    }
    const size_t count = (bytes.size() - trailer_bytes) / entry_bytes;
    const std::byte* trailer = bytes.data() + count * entry_bytes;
    const uint64_t magic_and_crc = get_u64(trailer);
    if (magic_and_crc >> 32 != trailer_magic || get_u64(trailer + 8) != count) {
        return absl::DataLossError("index trailer is damaged");
    }
    if (static_cast<uint32_t>(magic_and_crc)
        != net::kafka::crc32c(bytes.first(count * entry_bytes))) {
        return absl::DataLossError("index CRC mismatch");
    }
    SegmentIndex index;
    index.entries_.reserve(count);
    for (size_t i = 0; i < count; ++i) {
        const Entry entry{static_cast<int64_t>(get_u64(bytes.data() + i * entry_bytes)),
                          static_cast<int64_t>(get_u64(bytes.data() + i * entry_bytes + 8))};
        if (!index.entries_.empty()
            && (entry.key <= index.entries_.back().key
                || entry.value < index.entries_.back().value)) {
            return absl::DataLossError("index entries out of order");
        }
        index.entries_.push_back(entry);
    }
    return index;
}

}  // namespace ringlog::core
