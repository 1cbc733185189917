// Out-of-line parts of the Reader: variable-length fields and error reporting.
#include "net/kafka/protocol/reader.h"

#include <absl/strings/str_cat.h>

namespace ringlog::net::kafka {

namespace {

// Debian's Abseil is built with its own string_view type, not std::string_view.
absl::string_view to_absl(std::string_view text) {
    return {text.data(), text.size()};
}

}  // namespace

void Reader::fail(std::string_view message) {
    if (status_.ok()) {
        status_ =
            absl::InvalidArgumentError(absl::StrCat("at byte ", position_, ": ", to_absl(message)));
    }
    position_ = bytes_.size();
}

void Reader::fail_truncated(size_t needed) {
    if (status_.ok()) {
        fail(absl::StrCat("truncated: ", needed, " bytes needed, ", remaining(), " left"));
    }
}

double Reader::read_float64() {
    const uint64_t bits = read_be<uint64_t>();
    double value;
    std::memcpy(&value, &bits, sizeof(value));
    return value;
}

Uuid Reader::read_uuid() {
    Uuid uuid{};
    const ByteView raw = read_raw(uuid.size());
    if (!raw.empty()) {
        std::memcpy(uuid.data(), raw.data(), uuid.size());
    }
    return uuid;
}

uint32_t Reader::read_uvarint() {
    uint32_t value = 0;
    for (int shift = 0; shift <= 28; shift += 7) {
        if (remaining() == 0) [[unlikely]] {
            fail_truncated(1);
            return 0;
        }
        const auto byte = static_cast<uint8_t>(bytes_[position_++]);
        value |= static_cast<uint32_t>(byte & 0x7f) << shift;
        if ((byte & 0x80) == 0) {
            return value;
        }
    }
    fail("unsigned varint longer than 5 bytes");
    return 0;
}

int64_t Reader::read_length(bool flexible, bool wide) {
    int64_t length;
    if (flexible) {
        length = static_cast<int64_t>(read_uvarint()) - 1;
    } else {
        length = wide ? read_int32() : read_int16();
    }
    if (!ok()) {
        return -2;
    }
    if (length < -1) {
        fail(absl::StrCat("negative length ", length));
        return -2;
    }
    return length;
}

ByteView Reader::read_raw(size_t size) {
    if (size > remaining()) [[unlikely]] {
        fail_truncated(size);
        return {};
    }
    const ByteView view = bytes_.subspan(position_, size);
    position_ += size;
    return view;
}

std::optional<std::string_view> Reader::read_nullable_string(bool flexible) {
    const int64_t length = read_length(flexible, /*wide=*/false);
    if (length < 0) {
        return std::nullopt;
    }
    const ByteView raw = read_raw(static_cast<size_t>(length));
    return std::string_view(reinterpret_cast<const char*>(raw.data()), raw.size());
}

std::string_view Reader::read_string(bool flexible) {
    const size_t start = position_;
    std::optional<std::string_view> value = read_nullable_string(flexible);
    if (!value.has_value()) {
        if (ok()) {
            position_ = start;
            fail("null string where the field is not nullable");
        }
        return {};
    }
    return *value;
}

std::optional<ByteView> Reader::read_nullable_bytes(bool flexible) {
    const int64_t length = read_length(flexible, /*wide=*/true);
    if (length < 0) {
        return std::nullopt;
    }
    return read_raw(static_cast<size_t>(length));
}

ByteView Reader::read_bytes(bool flexible) {
    const size_t start = position_;
    std::optional<ByteView> value = read_nullable_bytes(flexible);
    if (!value.has_value()) {
        if (ok()) {
            position_ = start;
            fail("null bytes where the field is not nullable");
        }
        return {};
    }
    return *value;
}

Records Reader::read_records(bool flexible) {
    std::optional<ByteView> value = read_nullable_bytes(flexible);
    if (!value.has_value()) {
        return Records();
    }
    return Records(*value);
}

int32_t Reader::read_nullable_array_count(bool flexible, size_t element_bytes_min) {
    const size_t start = position_;
    const int64_t count = read_length(flexible, /*wide=*/true);
    if (count < 0) {
        return count == -1 ? -1 : 0;
    }
    // Every element takes at least one byte even when its fields take none (an empty tagged
    // section, at least), except in a struct with no fields at all, which no spec has.
    const size_t element_bytes = element_bytes_min > 0 ? element_bytes_min : 1;
    if (static_cast<uint64_t>(count) > remaining() / element_bytes) {
        position_ = start;
        fail(absl::StrCat("array of ", count, " elements of at least ", element_bytes,
                          " bytes each, but only ", remaining(), " bytes left"));
        return 0;
    }
    return static_cast<int32_t>(count);
}

int32_t Reader::read_array_count(bool flexible, size_t element_bytes_min) {
    const size_t start = position_;
    const int32_t count = read_nullable_array_count(flexible, element_bytes_min);
    if (count < 0) {
        position_ = start;
        fail("null array where the field is not nullable");
        return 0;
    }
    return count;
}

size_t Reader::begin_tagged_field(uint32_t& tag) {
    tag = read_uvarint();
    const uint32_t size = read_uvarint();
    if (size > remaining()) [[unlikely]] {
        fail(absl::StrCat("tagged field ", tag, " of ", size, " bytes, but only ", remaining(),
                          " bytes left"));
        return position_;
    }
    return position_ + size;
}

void Reader::end_tagged_field(size_t end) {
    if (ok() && position_ != end) [[unlikely]] {
        fail(absl::StrCat("tagged field value ends at byte ", position_, ", its size says ", end));
    }
}

void Reader::skip_tagged_fields() {
    const uint32_t count = read_uvarint();
    for (uint32_t index = 0; index < count && ok(); ++index) {
        uint32_t tag;
        const size_t end = begin_tagged_field(tag);
        skip(end - position_);
    }
}

absl::Status decode_result(const Reader& reader, std::string_view message, int16_t version) {
    if (reader.ok()) [[likely]] {
        return absl::OkStatus();
    }
    return absl::InvalidArgumentError(
        absl::StrCat(to_absl(message), " v", version, ": ", reader.status().message()));
}

absl::Status unsupported_version(std::string_view message, int16_t version) {
    return absl::UnimplementedError(
        absl::StrCat(to_absl(message), " v", version, " is not supported"));
}

}  // namespace ringlog::net::kafka
