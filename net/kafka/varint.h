// The signed zig-zag varints inside v2 records (Kafka's "varint" and "varlong", as in protobuf's
// sint32/sint64): decoding that never trusts its input, and encoding for the batch builder.
// The protocol codec's unsigned varints (KIP-482 compact lengths) live in net/kafka/protocol/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

namespace ringlog::net::kafka {

// Reads a zig-zag varint of at most `bytes_max` bytes (5 for int32, 10 for int64) at
// bytes[position], advancing position past it. Returns false, with position unchanged, if the
// bytes end first or the encoding is longer than allowed or overflows the type.
template <typename Int>
[[nodiscard]] bool read_zigzag(std::span<const std::byte> bytes, size_t& position, Int& value) {
    static_assert(std::is_same_v<Int, int32_t> || std::is_same_v<Int, int64_t>);
    constexpr size_t bits = sizeof(Int) * 8;
    constexpr size_t bytes_max = (bits + 6) / 7;
    using Unsigned = std::make_unsigned_t<Int>;
    Unsigned raw = 0;
    for (size_t i = 0; i < bytes_max; ++i) {
        if (position + i >= bytes.size()) {
            return false;
        }
        const auto byte = static_cast<uint8_t>(bytes[position + i]);
        const size_t shift = 7 * i;
        // The last byte may only carry the bits the type still has room for: 4 for int32
        // (32 = 4 x 7 + 4), 1 for int64 (64 = 9 x 7 + 1).
        if (i == bytes_max - 1 && (byte >> (bits - shift)) != 0) {
            return false;
        }
        raw |= static_cast<Unsigned>(byte & 0x7f) << shift;
        if ((byte & 0x80) == 0) {
            position += i + 1;
            value = static_cast<Int>((raw >> 1) ^ (~(raw & 1) + 1));
            return true;
        }
    }
    return false;
}

[[nodiscard]] inline bool read_varint(std::span<const std::byte> bytes, size_t& position,
                                      int32_t& value) {
    return read_zigzag(bytes, position, value);
}

[[nodiscard]] inline bool read_varlong(std::span<const std::byte> bytes, size_t& position,
                                       int64_t& value) {
    return read_zigzag(bytes, position, value);
}

inline uint64_t zigzag_encode(int64_t value) {
    return (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63);
}

// Bytes needed to encode `value` (1 to 10).
inline size_t zigzag_size(int64_t value) {
    uint64_t raw = zigzag_encode(value);
    size_t size = 1;
    while (raw >= 0x80) {
        raw >>= 7;
        ++size;
    }
    return size;
}

// Writes `value` at out (zigzag_size(value) bytes of room) and returns the bytes written.
inline size_t write_zigzag(int64_t value, std::byte* out) {
    uint64_t raw = zigzag_encode(value);
    size_t size = 0;
    while (raw >= 0x80) {
        out[size++] = static_cast<std::byte>((raw & 0x7f) | 0x80);
        raw >>= 7;
    }
    out[size++] = static_cast<std::byte>(raw);
    return size;
}

}  // namespace ringlog::net::kafka
