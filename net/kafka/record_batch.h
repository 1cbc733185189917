// The Kafka record batch (magic 2) as the broker sees it: a read-only view over the 61-byte
// header that checks what the log relies on, the CRC-32C over the batch, the few in-place edits
// a broker makes (base offset, leader epoch, LogAppendTime), and a bounds-checked walk over the
// records of an uncompressed batch. It never decompresses and never copies records.
// Source of truth: /work/shared/kafka-protocol/RECORD-BATCH.md, Kafka's DefaultRecordBatch.java
// and DefaultRecord.java.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <type_traits>

#include <absl/functional/function_ref.h>
#include <absl/status/status.h>
#include <absl/status/statusor.h>

namespace ringlog::net::kafka {

// Big-endian integers, as every fixed-width field on the wire and on disk is.
namespace big_endian {

template <typename Int>
Int load(const std::byte* p) {
    std::make_unsigned_t<Int> value = 0;
    for (size_t i = 0; i < sizeof(Int); ++i) {
        value = static_cast<std::make_unsigned_t<Int>>((value << 8) | static_cast<uint8_t>(p[i]));
    }
    return static_cast<Int>(value);
}

template <typename Int>
void store(std::byte* p, Int value) {
    auto raw = static_cast<std::make_unsigned_t<Int>>(value);
    for (size_t i = sizeof(Int); i > 0; --i) {
        p[i - 1] = static_cast<std::byte>(raw & 0xff);
        raw = static_cast<std::make_unsigned_t<Int>>(raw >> 8);
    }
}

}  // namespace big_endian

// Where each header field starts (RECORD-BATCH.md, "Record batch, magic v2").
namespace batch_field {
inline constexpr size_t base_offset = 0;              // int64
inline constexpr size_t batch_length = 8;             // int32: bytes after this field
inline constexpr size_t partition_leader_epoch = 12;  // int32, not covered by the CRC
inline constexpr size_t magic = 16;                   // int8
inline constexpr size_t crc = 17;                     // uint32, CRC-32C of [attributes, end)
inline constexpr size_t attributes = 21;              // int16
inline constexpr size_t last_offset_delta = 23;       // int32
inline constexpr size_t base_timestamp = 27;          // int64
inline constexpr size_t max_timestamp = 35;           // int64
inline constexpr size_t producer_id = 43;             // int64
inline constexpr size_t producer_epoch = 51;          // int16
inline constexpr size_t base_sequence = 53;           // int32
inline constexpr size_t records_count = 57;           // int32
}  // namespace batch_field

inline constexpr size_t batch_header_bytes = 61;
// baseOffset and batchLength precede what batchLength counts: size_bytes = batch_length + 12.
inline constexpr size_t batch_log_overhead_bytes = 12;
inline constexpr int32_t batch_length_min = batch_header_bytes - batch_log_overhead_bytes;
inline constexpr size_t batch_crc_begin = batch_field::attributes;
inline constexpr int8_t batch_magic = 2;

static_assert(batch_field::batch_length == batch_field::base_offset + 8);
static_assert(batch_field::partition_leader_epoch == batch_field::batch_length + 4);
static_assert(batch_field::magic == batch_field::partition_leader_epoch + 4);
static_assert(batch_field::crc == batch_field::magic + 1);
static_assert(batch_field::attributes == batch_field::crc + 4);
static_assert(batch_field::last_offset_delta == batch_field::attributes + 2);
static_assert(batch_field::base_timestamp == batch_field::last_offset_delta + 4);
static_assert(batch_field::max_timestamp == batch_field::base_timestamp + 8);
static_assert(batch_field::producer_id == batch_field::max_timestamp + 8);
static_assert(batch_field::producer_epoch == batch_field::producer_id + 8);
static_assert(batch_field::base_sequence == batch_field::producer_epoch + 2);
static_assert(batch_field::records_count == batch_field::base_sequence + 4);
static_assert(batch_header_bytes == batch_field::records_count + 4);
static_assert(batch_length_min == 49);

// attributes bits 0-2.
enum class Compression : uint8_t { none = 0, gzip = 1, snappy = 2, lz4 = 3, zstd = 4 };

// Kafka's name of a codec (compression.type): "none", "gzip", ...; "unknown" for the codes 5-7
// a corrupt batch may carry.
const char* compression_name(Compression compression);

// attributes bit 3.
enum class TimestampType : uint8_t { create_time = 0, log_append_time = 1 };

namespace batch_attribute {
inline constexpr uint16_t compression_mask = 0x0007;
inline constexpr uint16_t log_append_time = 0x0008;
inline constexpr uint16_t transactional = 0x0010;
inline constexpr uint16_t control = 0x0020;
inline constexpr uint16_t delete_horizon = 0x0040;  // set by the log cleaner (KIP-534)
inline constexpr uint16_t unused_mask = 0xff80;     // must be zero
}  // namespace batch_attribute

// A view of one batch. It borrows the bytes: they must outlive the view and not change under it.
// Made by parse() (the whole batch, with the bytes after it cut off) or parse_header() (only
// the 61 header bytes, for scanning a log without reading the records).
class RecordBatchView {
public:
    // Checks the header: at least 61 bytes, magic 2, a batch length of at least 49 whose batch
    // fits in `bytes`, records_count and last_offset_delta not negative, unused attribute bits
    // zero, a known codec. Errors: kOutOfRange when the bytes end before the batch does (a torn
    // tail or a partial fetch), kInvalidArgument when the header is malformed. It does not
    // check the CRC: validate_crc() does, once the caller has decided it needs to.
    [[nodiscard]] static absl::StatusOr<RecordBatchView> parse(std::span<const std::byte> bytes);

    // The same checks, but only the header needs to be present. Unless the whole batch is in
    // `bytes`, the view covers only the header (complete() is false) and has no CRC or records
    // to offer.
    [[nodiscard]] static absl::StatusOr<RecordBatchView> parse_header(
        std::span<const std::byte> bytes);

    int64_t base_offset() const { return load<int64_t>(batch_field::base_offset); }

    int32_t batch_length() const { return load<int32_t>(batch_field::batch_length); }

    int32_t partition_leader_epoch() const {
        return load<int32_t>(batch_field::partition_leader_epoch);
    }

    int8_t magic() const { return static_cast<int8_t>(bytes_[batch_field::magic]); }

    uint32_t crc() const { return load<uint32_t>(batch_field::crc); }

    int16_t attributes() const { return load<int16_t>(batch_field::attributes); }

    Compression compression() const {
        return static_cast<Compression>(attribute_bits() & batch_attribute::compression_mask);
    }

    TimestampType timestamp_type() const {
        return (attribute_bits() & batch_attribute::log_append_time) != 0
                   ? TimestampType::log_append_time
                   : TimestampType::create_time;
    }

    bool is_transactional() const {
        return (attribute_bits() & batch_attribute::transactional) != 0;
    }

    bool is_control() const { return (attribute_bits() & batch_attribute::control) != 0; }

    bool has_delete_horizon() const {
        return (attribute_bits() & batch_attribute::delete_horizon) != 0;
    }

    int32_t last_offset_delta() const { return load<int32_t>(batch_field::last_offset_delta); }

    int64_t base_timestamp() const { return load<int64_t>(batch_field::base_timestamp); }

    int64_t max_timestamp() const { return load<int64_t>(batch_field::max_timestamp); }

    int64_t producer_id() const { return load<int64_t>(batch_field::producer_id); }

    int16_t producer_epoch() const { return load<int16_t>(batch_field::producer_epoch); }

    int32_t base_sequence() const { return load<int32_t>(batch_field::base_sequence); }

    int32_t records_count() const { return load<int32_t>(batch_field::records_count); }

    // The whole batch on the wire or on disk: batch_length + 12.
    size_t size_bytes() const {
        return static_cast<size_t>(batch_length()) + batch_log_overhead_bytes;
    }

    int64_t last_offset() const { return base_offset() + last_offset_delta(); }

    // True when the view holds the whole batch (parse), false for a header-only view.
    bool complete() const { return bytes_.size() == size_bytes(); }

    // The batch (or, for a header-only view, its header).
    std::span<const std::byte> bytes() const { return bytes_; }

    // What follows the header: the records, compressed or not. Needs a complete view.
    std::span<const std::byte> records_bytes() const;

    // CRC-32C of [attributes, end). Needs a complete view.
    uint32_t compute_crc() const;

    // kDataLoss "CRC mismatch: stored X computed Y"; kFailedPrecondition on a header-only view.
    [[nodiscard]] absl::Status validate_crc() const;

private:
    explicit RecordBatchView(std::span<const std::byte> bytes) : bytes_(bytes) {}

    static absl::Status check_header(std::span<const std::byte> bytes);

    template <typename Int>
    Int load(size_t field) const {
        return big_endian::load<Int>(bytes_.data() + field);
    }

    uint16_t attribute_bits() const { return static_cast<uint16_t>(attributes()); }

    std::span<const std::byte> bytes_;
};

// In-place edits the broker makes on a batch it accepted (`batch` is exactly one batch, at
// least its header; the CRC-recomputing ones need the whole batch). baseOffset and
// partitionLeaderEpoch are outside the CRC, so these two leave it valid as it is.
void set_base_offset(std::span<std::byte> batch, int64_t base_offset);
void set_partition_leader_epoch(std::span<std::byte> batch, int32_t partition_leader_epoch);

// For a topic with message.timestamp.type=LogAppendTime: sets the timestamp-type attribute bit
// and maxTimestamp to the broker's time, then recomputes the CRC. baseTimestamp and the record
// deltas are left alone, as in Kafka's DefaultRecordBatch.setMaxTimestamp: consumers take every
// record's timestamp from maxTimestamp when the type is LogAppendTime.
void set_max_timestamp_and_log_append_time(std::span<std::byte> batch, int64_t max_timestamp);

// Rewrites the stored CRC from the bytes.
void update_crc(std::span<std::byte> batch);

// One record of an uncompressed batch (DefaultRecord.java). Spans point into the batch.
struct Record {
    int8_t attributes = 0;  // unused by Kafka, 0
    int64_t timestamp_delta = 0;
    int32_t offset_delta = 0;
    std::optional<std::span<const std::byte>> key;    // nullopt: a null key
    std::optional<std::span<const std::byte>> value;  // nullopt: a null value (a tombstone)
    int32_t headers_count = 0;
    std::span<const std::byte> headers;  // the encoded headers, already bounds-checked
};

struct RecordHeader {
    std::span<const std::byte> key;  // UTF-8, never null
    std::optional<std::span<const std::byte>> value;
};

// Walks the records of an uncompressed batch, checking every length against the bytes: nothing
// from a socket or a disk is trusted. Each record must end exactly where its length says, the
// batch must hold exactly records_count records, and nothing may follow the last one.
//
//     RecordIterator records(batch);
//     Record record;
//     while (records.next(record)) { ... }
//     RL_RETURN_IF_ERROR(records.status());
class RecordIterator {
public:
    // `batch` must be complete. A compressed batch gives kUnimplemented, a header-only view
    // kFailedPrecondition, both from status() with next() returning false at once.
    explicit RecordIterator(const RecordBatchView& batch);

    // Over records already decompressed (compression.h): `records` must hold exactly
    // `records_count` records.
    RecordIterator(std::span<const std::byte> records, int32_t records_count)
        : bytes_(records), count_(records_count) {}

    // Fills `record` and returns true, or returns false at the end or at the first malformed
    // record (then status() is kInvalidArgument).
    [[nodiscard]] bool next(Record& record);

    const absl::Status& status() const { return status_; }

    // The encoded bytes (length varint included) of the record next() returned last: a record
    // is self-contained, so the log cleaner copies the ones it keeps as they are.
    std::span<const std::byte> record_bytes() const {
        return bytes_.subspan(record_begin_, position_ - record_begin_);
    }

private:
    absl::Status parse_record(Record& record);

    std::span<const std::byte> bytes_;  // the records region
    size_t position_ = 0;
    size_t record_begin_ = 0;
    int32_t index_ = 0;
    int32_t count_ = 0;
    absl::Status status_;
};

// Calls fn for each record, in order; returns what RecordIterator::status() would.
[[nodiscard]] absl::Status for_each_record(const RecordBatchView& batch,
                                           absl::FunctionRef<void(const Record&)> fn);

// Calls fn for each header of a record from RecordIterator; kInvalidArgument if `record.headers`
// does not hold exactly `record.headers_count` well-formed headers.
[[nodiscard]] absl::Status for_each_header(const Record& record,
                                           absl::FunctionRef<void(const RecordHeader&)> fn);

}  // namespace ringlog::net::kafka
