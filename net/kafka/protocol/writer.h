// Writes Kafka protocol primitives into an owned, growing byte buffer, plus "external"
// segments: byte ranges owned by someone else (record batches in the log tail) that are sent
// in place. gather() returns the frame as spans in wire order for one vectored send, so a
// fetch response copies its header bytes and none of its records.
//
// Length prefixes that are only known at the end are reserved and patched: a frame's int32
// size (reserve_int32_size / patch_int32_size) and a tagged field's uvarint size
// (begin_uvarint_size / end_uvarint_size, which shifts the bytes written since).
// Not for untrusted input: encoding our own value wrongly is a bug, so it asserts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "io/base/assert.h"
#include "net/kafka/protocol/types.h"

namespace ringlog::net::kafka {

class Writer {
public:
    Writer() = default;

    explicit Writer(size_t capacity) { reserve(capacity); }

    Writer(Writer&&) noexcept = default;
    Writer& operator=(Writer&&) noexcept = default;

    // Forgets everything written but keeps the capacity, so a reused writer does not allocate.
    void clear();

    void reserve(size_t capacity);

    void write_int8(int8_t value) { write_be(static_cast<uint8_t>(value)); }

    void write_int16(int16_t value) { write_be(static_cast<uint16_t>(value)); }

    void write_int32(int32_t value) { write_be(static_cast<uint32_t>(value)); }

    void write_int64(int64_t value) { write_be(static_cast<uint64_t>(value)); }

    void write_uint16(uint16_t value) { write_be(value); }

    void write_uint32(uint32_t value) { write_be(value); }

    void write_float64(double value);

    void write_bool(bool value) { write_be(static_cast<uint8_t>(value ? 1 : 0)); }

    void write_uuid(const Uuid& uuid) { append(uuid); }

    void write_uvarint(uint32_t value);

    // Classic: int16 length; compact (flexible versions): uvarint length + 1.
    void write_string(std::string_view value, bool flexible);

    void write_nullable_string(const std::optional<std::string_view>& value, bool flexible);

    // Classic: int32 length; compact: uvarint length + 1. The bytes are copied.
    void write_bytes(ByteView value, bool flexible);

    void write_nullable_bytes(const std::optional<ByteView>& value, bool flexible);

    // The length, then every segment as an external segment (not copied).
    void write_records(const Records& records, bool flexible);

    void write_array_count(size_t count, bool flexible);

    void write_null_array(bool flexible);

    // Copies `bytes` into the owned buffer.
    void append(ByteView bytes) {
        if (!bytes.empty()) {
            std::memcpy(grow(bytes.size()), bytes.data(), bytes.size());
        }
    }

    // Records `bytes` as a segment of the output without copying them. They must stay valid
    // and unchanged until the gathered segments have been sent.
    void append_external(ByteView bytes);

    // A place in the output that a size is written back to.
    struct Mark {
        size_t position = 0;        // offset in the owned buffer
        size_t size_bytes = 0;      // size_bytes() when the mark was taken
        size_t external_index = 0;  // external segments recorded before the mark
    };

    // Writes a 4-byte placeholder for a size that patch_int32_size fills in.
    Mark reserve_int32_size();

    // Fills the placeholder with the number of bytes written after it, external ones included.
    void patch_int32_size(const Mark& mark);

    // Marks the start of a value whose uvarint size must precede it.
    Mark begin_uvarint_size() const { return Mark{size_, size_bytes(), externals_.size()}; }

    // Inserts the uvarint size of everything written since `mark` at the mark.
    void end_uvarint_size(const Mark& mark);

    // Every byte of the output: owned and external.
    size_t size_bytes() const { return size_ + external_bytes_; }

    // The owned bytes only (the whole output when there are no external segments).
    ByteView owned_bytes() const { return {data_.get(), size_}; }

    size_t external_count() const { return externals_.size(); }

    // Appends the output to `segments` in wire order: owned pieces interleaved with external
    // segments. The owned pieces point into this writer and stay valid until it next changes.
    void gather(std::vector<ByteView>& segments) const;

    std::vector<ByteView> gather() const {
        std::vector<ByteView> segments;
        gather(segments);
        return segments;
    }

    // The output copied into one vector (tests and tools).
    std::vector<std::byte> flatten() const;

private:
    struct External {
        size_t position;  // offset in the owned buffer where the segment goes
        ByteView bytes;
    };

    std::byte* grow(size_t size) {
        if (capacity_ - size_ < size) [[unlikely]] {
            reserve(size_ + size);
        }
        std::byte* target = data_.get() + size_;
        size_ += size;
        return target;
    }

    template <typename T>
    void write_be(T value) {
        if constexpr (sizeof(T) == 2) {
            value = __builtin_bswap16(value);
        } else if constexpr (sizeof(T) == 4) {
            value = __builtin_bswap32(value);
        } else if constexpr (sizeof(T) == 8) {
            value = __builtin_bswap64(value);
        }
        std::memcpy(grow(sizeof(T)), &value, sizeof(T));
    }

    std::unique_ptr<std::byte[]> data_;
    size_t size_ = 0;
    size_t capacity_ = 0;
    std::vector<External> externals_;
    size_t external_bytes_ = 0;
};

// For generated encoders: encoding a version the code was not built for is the caller's bug.
inline void assert_encodable_version(const char* message, int16_t version, int16_t min_version,
                                     int16_t max_version) {
    RL_ASSERT(version >= min_version, "%s v%d", message, version);
    RL_ASSERT(version <= max_version, "%s v%d", message, version);
}

}  // namespace ringlog::net::kafka
