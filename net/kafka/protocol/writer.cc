// Out-of-line parts of the Writer: growth, variable-length fields and segment bookkeeping.
#include "net/kafka/protocol/writer.h"

#include <algorithm>
#include <limits>

namespace ringlog::net::kafka {

namespace {

// The encoding of `value` as an unsigned varint in `out`; returns its length (1 to 5).
size_t encode_uvarint(uint32_t value, std::byte* out) {
    size_t length = 0;
    while (value >= 0x80) {
        out[length++] = static_cast<std::byte>((value & 0x7f) | 0x80);
        value >>= 7;
    }
    out[length++] = static_cast<std::byte>(value);
    return length;
}

}  // namespace

void Writer::clear() {
    size_ = 0;
    externals_.clear();
    external_bytes_ = 0;
}

void Writer::reserve(size_t capacity) {
    if (capacity <= capacity_) {
        return;
    }
    const size_t new_capacity = std::max({capacity, capacity_ * 2, size_t{256}});
    auto data = std::make_unique_for_overwrite<std::byte[]>(new_capacity);
    if (size_ > 0) {
        std::memcpy(data.get(), data_.get(), size_);
    }
    data_ = std::move(data);
    capacity_ = new_capacity;
}

void Writer::write_float64(double value) {
    uint64_t bits;
    std::memcpy(&bits, &value, sizeof(bits));
    write_be(bits);
}

void Writer::write_uvarint(uint32_t value) {
    std::byte encoded[5];
    append({encoded, encode_uvarint(value, encoded)});
}

void Writer::write_string(std::string_view value, bool flexible) {
    if (flexible) {
        RL_ASSERT(value.size() < std::numeric_limits<uint32_t>::max());
        write_uvarint(static_cast<uint32_t>(value.size() + 1));
    } else {
        RL_ASSERT(value.size() <= size_t{std::numeric_limits<int16_t>::max()}, "string of %d bytes",
                  value.size());
        write_int16(static_cast<int16_t>(value.size()));
    }
    append({reinterpret_cast<const std::byte*>(value.data()), value.size()});
}

void Writer::write_nullable_string(const std::optional<std::string_view>& value, bool flexible) {
    if (!value.has_value()) {
        if (flexible) {
            write_uvarint(0);
        } else {
            write_int16(-1);
        }
        return;
    }
    write_string(*value, flexible);
}

void Writer::write_bytes(ByteView value, bool flexible) {
    write_array_count(value.size(), flexible);
    append(value);
}

void Writer::write_nullable_bytes(const std::optional<ByteView>& value, bool flexible) {
    if (!value.has_value()) {
        write_null_array(flexible);
        return;
    }
    write_bytes(*value, flexible);
}

void Writer::write_records(const Records& records, bool flexible) {
    if (records.is_null()) {
        write_null_array(flexible);
        return;
    }
    write_array_count(records.size_bytes(), flexible);
    for (ByteView segment : records.segments()) {
        append_external(segment);
    }
}

void Writer::write_array_count(size_t count, bool flexible) {
    RL_ASSERT(count < size_t{std::numeric_limits<int32_t>::max()}, "count %d", count);
    if (flexible) {
        write_uvarint(static_cast<uint32_t>(count + 1));
    } else {
        write_int32(static_cast<int32_t>(count));
    }
}

void Writer::write_null_array(bool flexible) {
    if (flexible) {
        write_uvarint(0);
    } else {
        write_int32(-1);
    }
}

void Writer::append_external(ByteView bytes) {
    if (bytes.empty()) {
        return;
    }
    externals_.push_back(External{size_, bytes});
    external_bytes_ += bytes.size();
}

Writer::Mark Writer::reserve_int32_size() {
    const size_t position = size_;
    write_int32(0);
    return Mark{position, size_bytes(), externals_.size()};
}

void Writer::patch_int32_size(const Mark& mark) {
    RL_ASSERT(mark.position + 4 <= size_);
    const size_t size = size_bytes() - mark.size_bytes;
    RL_ASSERT(size <= size_t{std::numeric_limits<int32_t>::max()}, "frame of %d bytes", size);
    const uint32_t big_endian = __builtin_bswap32(static_cast<uint32_t>(size));
    std::memcpy(data_.get() + mark.position, &big_endian, sizeof(big_endian));
}

void Writer::end_uvarint_size(const Mark& mark) {
    RL_ASSERT(mark.position <= size_);
    const size_t size = size_bytes() - mark.size_bytes;
    RL_ASSERT(size < size_t{std::numeric_limits<uint32_t>::max()});
    std::byte encoded[5];
    const size_t length = encode_uvarint(static_cast<uint32_t>(size), encoded);
    // Make room at the mark: everything written since moves `length` bytes along, and so do
    // the external segments recorded since.
    const size_t tail_bytes = size_ - mark.position;
    grow(length);
    std::byte* at = data_.get() + mark.position;
    std::memmove(at + length, at, tail_bytes);
    std::memcpy(at, encoded, length);
    for (size_t index = mark.external_index; index < externals_.size(); ++index) {
        externals_[index].position += length;
    }
}

void Writer::gather(std::vector<ByteView>& segments) const {
    size_t cursor = 0;
    for (const External& external : externals_) {
        if (external.position > cursor) {
            segments.emplace_back(data_.get() + cursor, external.position - cursor);
            cursor = external.position;
        }
        segments.push_back(external.bytes);
    }
    if (size_ > cursor) {
        segments.emplace_back(data_.get() + cursor, size_ - cursor);
    }
}

std::vector<std::byte> Writer::flatten() const {
    std::vector<std::byte> bytes;
    bytes.reserve(size_bytes());
    for (ByteView segment : gather()) {
        bytes.insert(bytes.end(), segment.begin(), segment.end());
    }
    return bytes;
}

}  // namespace ringlog::net::kafka
