// Reads Kafka protocol primitives from a frame that outlives everything decoded from it:
// big-endian integers, unsigned varints, classic and compact (KIP-482) strings, bytes, arrays
// and tagged-field headers. Strings and bytes come back as views into the frame (zero copy).
//
// Errors are sticky: the first malformed or truncated read records a kInvalidArgument status,
// moves the reader to the end, and every later read returns a zero value without touching the
// input. Generated decoders read straight through and check status() once at the end, so a
// field costs one bounds check rather than one branch on a returned Status.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>

#include <absl/status/status.h>

#include "net/kafka/protocol/types.h"

namespace ringlog::net::kafka {

class Reader {
public:
    explicit Reader(ByteView bytes) : bytes_(bytes) {}

    size_t position() const { return position_; }

    size_t remaining() const { return bytes_.size() - position_; }

    bool ok() const { return status_.ok(); }

    // The first error, or OK.
    const absl::Status& status() const { return status_; }

    // Records `message` as a kInvalidArgument error (prefixed with the offset) unless an error
    // is already recorded, and stops all further reads.
    void fail(std::string_view message);

    int8_t read_int8() { return static_cast<int8_t>(read_be<uint8_t>()); }

    int16_t read_int16() { return static_cast<int16_t>(read_be<uint16_t>()); }

    int32_t read_int32() { return static_cast<int32_t>(read_be<uint32_t>()); }

    int64_t read_int64() { return static_cast<int64_t>(read_be<uint64_t>()); }

    uint16_t read_uint16() { return read_be<uint16_t>(); }

    uint32_t read_uint32() { return read_be<uint32_t>(); }

    double read_float64();

    // Any non-zero byte is true, as in Kafka's reader.
    bool read_bool() { return read_be<uint8_t>() != 0; }

    Uuid read_uuid();

    // 7 bits per byte, least significant group first, at most 5 bytes (protobuf's encoding).
    uint32_t read_uvarint();

    // Classic: int16 length; compact (flexible versions): uvarint length + 1. A null on the
    // wire is an error for the non-nullable forms.
    std::string_view read_string(bool flexible);

    std::optional<std::string_view> read_nullable_string(bool flexible);

    // Classic: int32 length; compact: uvarint length + 1.
    ByteView read_bytes(bool flexible);

    std::optional<ByteView> read_nullable_bytes(bool flexible);

    // Nullable bytes holding record batches; the batches themselves are not parsed here.
    Records read_records(bool flexible);

    // An array's element count, checked against the bytes left: each element takes at least
    // `element_bytes_min` bytes, so a count the frame cannot hold fails before anything is
    // allocated. Returns 0 on error; a null array is an error.
    int32_t read_array_count(bool flexible, size_t element_bytes_min);

    // As read_array_count, but a null array returns -1.
    int32_t read_nullable_array_count(bool flexible, size_t element_bytes_min);

    // `size` bytes as a view, or an empty view on error.
    ByteView read_raw(size_t size);

    void skip(size_t size) { (void)read_raw(size); }

    // Moves to `position` (a tagged field's end) unless an error has already stopped reading.
    void skip_to(size_t position) {
        if (ok() && position >= position_) {
            skip(position - position_);
        }
    }

    // Starts one entry of a tagged-field section: reads its tag and size, checks that the
    // size fits, and returns the position where the entry must end.
    size_t begin_tagged_field(uint32_t& tag);

    // Fails unless the entry's value ended exactly at `end`.
    void end_tagged_field(size_t end);

    // Reads a whole tagged-field section, skipping every entry (for structs that define no
    // tagged fields, and for unknown tags).
    void skip_tagged_fields();

private:
    template <typename T>
    T read_be() {
        if (sizeof(T) > remaining()) [[unlikely]] {
            fail_truncated(sizeof(T));
            return 0;
        }
        T value;
        std::memcpy(&value, bytes_.data() + position_, sizeof(T));
        position_ += sizeof(T);
        if constexpr (sizeof(T) == 2) {
            value = __builtin_bswap16(value);
        } else if constexpr (sizeof(T) == 4) {
            value = __builtin_bswap32(value);
        } else if constexpr (sizeof(T) == 8) {
            value = __builtin_bswap64(value);
        }
        return value;
    }

    // Reads a classic or compact length. Returns -1 for null, -2 after an error.
    int64_t read_length(bool flexible, bool wide);

    void fail_truncated(size_t needed);

    ByteView bytes_;
    size_t position_ = 0;
    absl::Status status_;
};

// For generated decoders: the reader's status, prefixed with the message name and version.
[[nodiscard]] absl::Status decode_result(const Reader& reader, std::string_view message,
                                         int16_t version);

// For generated decoders: the kUnimplemented error for a version the code was not built for.
[[nodiscard]] absl::Status unsupported_version(std::string_view message, int16_t version);

}  // namespace ringlog::net::kafka
