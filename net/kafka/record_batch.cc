// RecordBatchView checks, the CRC, in-place edits and the record walk. Every length read from
// the batch is checked against the bytes before it is used.
#include "net/kafka/record_batch.h"

#include <absl/strings/str_cat.h>
#include <absl/strings/str_format.h>

#include "io/base/assert.h"
#include "net/kafka/crc32c.h"
#include "net/kafka/varint.h"

namespace ringlog::net::kafka {

absl::Status RecordBatchView::check_header(std::span<const std::byte> bytes) {
    if (bytes.size() < batch_header_bytes) {
        return absl::OutOfRangeError(absl::StrCat("incomplete batch header: ", bytes.size(), " of ",
                                                  batch_header_bytes, " bytes"));
    }
    const RecordBatchView header(bytes);
    if (header.magic() != batch_magic) {
        return absl::InvalidArgumentError(
            absl::StrCat("unsupported magic ", static_cast<int>(header.magic())));
    }
    if (header.batch_length() < batch_length_min) {
        return absl::InvalidArgumentError(
            absl::StrCat("batch length ", header.batch_length(), " is below ", batch_length_min));
    }
    if (header.records_count() < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("negative records count ", header.records_count()));
    }
    if (header.last_offset_delta() < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("negative last offset delta ", header.last_offset_delta()));
    }
    if ((header.attribute_bits() & batch_attribute::unused_mask) != 0) {
        return absl::InvalidArgumentError(
            absl::StrFormat("unused attribute bits set: 0x%04x", header.attribute_bits()));
    }
    if (static_cast<uint8_t>(header.compression()) > static_cast<uint8_t>(Compression::zstd)) {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown compression codec ", static_cast<int>(header.compression())));
    }
    return absl::OkStatus();
}

absl::StatusOr<RecordBatchView> RecordBatchView::parse(std::span<const std::byte> bytes) {
    if (absl::Status status = check_header(bytes); !status.ok()) {
        return status;
    }
    const RecordBatchView header(bytes.first(batch_header_bytes));
    if (header.size_bytes() > bytes.size()) {
        return absl::OutOfRangeError(absl::StrCat("incomplete batch: ", bytes.size(), " of ",
                                                  header.size_bytes(), " bytes"));
    }
    return RecordBatchView(bytes.first(header.size_bytes()));
}

absl::StatusOr<RecordBatchView> RecordBatchView::parse_header(std::span<const std::byte> bytes) {
    if (absl::Status status = check_header(bytes); !status.ok()) {
        return status;
    }
    const RecordBatchView header(bytes.first(batch_header_bytes));
    // With the whole batch present the view is complete, as from parse().
    const bool whole = header.size_bytes() <= bytes.size();
    return RecordBatchView(bytes.first(whole ? header.size_bytes() : batch_header_bytes));
}

std::span<const std::byte> RecordBatchView::records_bytes() const {
    RL_ASSERT(complete(), "records of a header-only batch view");
    return bytes_.subspan(batch_header_bytes);
}

uint32_t RecordBatchView::compute_crc() const {
    RL_ASSERT(complete(), "CRC of a header-only batch view");
    return crc32c(bytes_.subspan(batch_crc_begin));
}

absl::Status RecordBatchView::validate_crc() const {
    if (!complete()) {
        return absl::FailedPreconditionError("the CRC needs the whole batch, not only its header");
    }
    const uint32_t computed = compute_crc();
    if (computed != crc()) {
        return absl::DataLossError(
            absl::StrFormat("CRC mismatch: stored 0x%08x computed 0x%08x", crc(), computed));
    }
    return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// In-place edits

namespace {

// The batch's own size from its header, checked against the span the caller passed.
size_t whole_batch_bytes(std::span<const std::byte> batch) {
    RL_ASSERT(batch.size() >= batch_header_bytes);
    const auto length = big_endian::load<int32_t>(batch.data() + batch_field::batch_length);
    RL_ASSERT(length >= batch_length_min);
    const size_t size = static_cast<size_t>(length) + batch_log_overhead_bytes;
    RL_ASSERT(size <= batch.size(), "batch of %d bytes in a span of %d", size, batch.size());
    return size;
}

}  // namespace

void set_base_offset(std::span<std::byte> batch, int64_t base_offset) {
    RL_ASSERT(batch.size() >= batch_header_bytes);
    big_endian::store(batch.data() + batch_field::base_offset, base_offset);
}

void set_partition_leader_epoch(std::span<std::byte> batch, int32_t partition_leader_epoch) {
    RL_ASSERT(batch.size() >= batch_header_bytes);
    big_endian::store(batch.data() + batch_field::partition_leader_epoch, partition_leader_epoch);
}

void update_crc(std::span<std::byte> batch) {
    const size_t size = whole_batch_bytes(batch);
    const uint32_t crc =
        crc32c(std::span<const std::byte>(batch.first(size)).subspan(batch_crc_begin));
    big_endian::store(batch.data() + batch_field::crc, crc);
}

void set_max_timestamp_and_log_append_time(std::span<std::byte> batch, int64_t max_timestamp) {
    whole_batch_bytes(batch);
    const auto attributes = big_endian::load<uint16_t>(batch.data() + batch_field::attributes);
    big_endian::store(batch.data() + batch_field::attributes,
                      static_cast<uint16_t>(attributes | batch_attribute::log_append_time));
    big_endian::store(batch.data() + batch_field::max_timestamp, max_timestamp);
    update_crc(batch);
}

// ---------------------------------------------------------------------------------------------
// Records

namespace {

// Reads a varint length of a nullable byte string (-1 is null) and the bytes after it.
// Returns false if the length is malformed or the bytes end first.
bool read_nullable_bytes(std::span<const std::byte> bytes, size_t& position,
                         std::optional<std::span<const std::byte>>& out) {
    int32_t length = 0;
    if (!read_varint(bytes, position, length) || length < -1) {
        return false;
    }
    if (length == -1) {
        out.reset();
        return true;
    }
    if (static_cast<size_t>(length) > bytes.size() - position) {
        return false;
    }
    out = bytes.subspan(position, static_cast<size_t>(length));
    position += static_cast<size_t>(length);
    return true;
}

// Parses one header at bytes[position]; the key may not be null.
bool read_header(std::span<const std::byte> bytes, size_t& position, RecordHeader& header) {
    std::optional<std::span<const std::byte>> key;
    if (!read_nullable_bytes(bytes, position, key) || !key.has_value()) {
        return false;
    }
    header.key = *key;
    return read_nullable_bytes(bytes, position, header.value);
}

}  // namespace

RecordIterator::RecordIterator(const RecordBatchView& batch) {
    if (!batch.complete()) {
        status_ = absl::FailedPreconditionError("records of a header-only batch view");
        return;
    }
    if (batch.compression() != Compression::none) {
        status_ = absl::UnimplementedError(absl::StrCat(
            "records of a compressed batch (codec ", static_cast<int>(batch.compression()), ")"));
        return;
    }
    bytes_ = batch.records_bytes();
    count_ = batch.records_count();
}

bool RecordIterator::next(Record& record) {
    if (!status_.ok()) {
        return false;
    }
    if (index_ == count_) {
        if (position_ != bytes_.size()) {
            status_ = absl::InvalidArgumentError(absl::StrCat(
                bytes_.size() - position_, " bytes after the last of ", count_, " records"));
        }
        return false;
    }
    record_begin_ = position_;
    status_ = parse_record(record);
    if (!status_.ok()) {
        return false;
    }
    ++index_;
    return true;
}

absl::Status RecordIterator::parse_record(Record& record) {
    const auto malformed = [&](const char* what) {
        return absl::InvalidArgumentError(
            absl::StrCat("record ", index_, " of ", count_, ": ", what));
    };
    int32_t length = 0;
    if (!read_varint(bytes_, position_, length)) {
        return malformed("bad or missing length");
    }
    if (length < 0 || static_cast<size_t>(length) > bytes_.size() - position_) {
        return malformed("length past the end of the batch");
    }
    const std::span<const std::byte> bytes = bytes_.subspan(position_, static_cast<size_t>(length));
    size_t position = 0;
    if (bytes.empty()) {
        return malformed("empty record");
    }
    record.attributes = static_cast<int8_t>(bytes[position++]);
    if (!read_varlong(bytes, position, record.timestamp_delta)) {
        return malformed("bad timestamp delta");
    }
    if (!read_varint(bytes, position, record.offset_delta)) {
        return malformed("bad offset delta");
    }
    if (!read_nullable_bytes(bytes, position, record.key)) {
        return malformed("bad key");
    }
    if (!read_nullable_bytes(bytes, position, record.value)) {
        return malformed("bad value");
    }
    if (!read_varint(bytes, position, record.headers_count) || record.headers_count < 0) {
        return malformed("bad header count");
    }
    const size_t headers_begin = position;
    for (int32_t i = 0; i < record.headers_count; ++i) {
        RecordHeader header;
        if (!read_header(bytes, position, header)) {
            return malformed("bad header");
        }
    }
    record.headers = bytes.subspan(headers_begin, position - headers_begin);
    if (position != bytes.size()) {
        return malformed("bytes left after the headers");
    }
    position_ += static_cast<size_t>(length);
    return absl::OkStatus();
}

absl::Status for_each_record(const RecordBatchView& batch,
                             absl::FunctionRef<void(const Record&)> fn) {
    RecordIterator records(batch);
    Record record;
    while (records.next(record)) {
        fn(record);
    }
    return records.status();
}

absl::Status for_each_header(const Record& record,
                             absl::FunctionRef<void(const RecordHeader&)> fn) {
    size_t position = 0;
    for (int32_t i = 0; i < record.headers_count; ++i) {
        RecordHeader header;
        if (!read_header(record.headers, position, header)) {
            return absl::InvalidArgumentError(absl::StrCat("bad header ", i));
        }
        fn(header);
    }
    if (position != record.headers.size()) {
        return absl::InvalidArgumentError("bytes left after the headers");
    }
    return absl::OkStatus();
}

const char* compression_name(Compression compression) {
    switch (compression) {
        case Compression::none:
            return "none";
        case Compression::gzip:
            return "gzip";
        case Compression::snappy:
            return "snappy";
        case Compression::lz4:
            return "lz4";
        case Compression::zstd:
            return "zstd";
    }
    return "unknown";
}

}  // namespace ringlog::net::kafka
