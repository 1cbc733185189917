// build_record_batch: records first (their encoded sizes decide batchLength), then the header,
// then the CRC over everything from attributes on.
#include "net/kafka/record_batch_builder.h"

#include <algorithm>

#include "io/base/assert.h"
#include "net/kafka/varint.h"

namespace ringlog::net::kafka {

namespace {

void append_varint(std::vector<std::byte>& out, int64_t value) {
    std::byte encoded[10];
    const size_t size = write_zigzag(value, encoded);
    out.insert(out.end(), encoded, encoded + size);
}

void append_bytes(std::vector<std::byte>& out, const std::optional<std::string>& bytes) {
    if (!bytes.has_value()) {
        append_varint(out, -1);
        return;
    }
    append_varint(out, static_cast<int64_t>(bytes->size()));
    const auto* data = reinterpret_cast<const std::byte*>(bytes->data());
    out.insert(out.end(), data, data + bytes->size());
}

// One record: its body, then the body's length in front of it.
void append_record(std::vector<std::byte>& out, const RecordSpec& record, int64_t base_timestamp,
                   int32_t offset_delta) {
    std::vector<std::byte> body;
    body.push_back(std::byte{0});  // attributes
    append_varint(body, record.timestamp - base_timestamp);
    append_varint(body, offset_delta);
    append_bytes(body, record.key);
    append_bytes(body, record.value);
    append_varint(body, static_cast<int64_t>(record.headers.size()));
    for (const HeaderSpec& header : record.headers) {
        append_bytes(body, header.key);
        append_bytes(body, header.value);
    }
    append_varint(out, static_cast<int64_t>(body.size()));
    out.insert(out.end(), body.begin(), body.end());
}

}  // namespace

std::vector<std::byte> build_record_batch(const BatchSpec& spec) {
    int64_t base_timestamp = spec.base_timestamp;
    if (base_timestamp == -1 && !spec.records.empty()) {
        base_timestamp = spec.records.front().timestamp;
    }
    int64_t max_timestamp = -1;
    int32_t last_offset_delta = 0;
    std::vector<std::byte> out(batch_header_bytes);
    for (size_t i = 0; i < spec.records.size(); ++i) {
        const RecordSpec& record = spec.records[i];
        const int32_t offset_delta = record.offset_delta.value_or(static_cast<int32_t>(i));
        max_timestamp = std::max(max_timestamp, record.timestamp);
        last_offset_delta = std::max(last_offset_delta, offset_delta);
        append_record(out, record, base_timestamp, offset_delta);
    }
    RL_ASSERT(out.size() - batch_log_overhead_bytes <= INT32_MAX);

    uint16_t attributes = 0;
    if (spec.timestamp_type == TimestampType::log_append_time) {
        attributes |= batch_attribute::log_append_time;
    }
    if (spec.transactional) {
        attributes |= batch_attribute::transactional;
    }
    if (spec.control) {
        attributes |= batch_attribute::control;
    }
    std::byte* header = out.data();
    big_endian::store(header + batch_field::base_offset, spec.base_offset);
    big_endian::store(header + batch_field::batch_length,
                      static_cast<int32_t>(out.size() - batch_log_overhead_bytes));
    big_endian::store(header + batch_field::partition_leader_epoch, spec.partition_leader_epoch);
    header[batch_field::magic] = static_cast<std::byte>(batch_magic);
    big_endian::store(header + batch_field::attributes, attributes);
    big_endian::store(header + batch_field::last_offset_delta,
                      spec.last_offset_delta.value_or(last_offset_delta));
    big_endian::store(header + batch_field::base_timestamp, base_timestamp);
    big_endian::store(header + batch_field::max_timestamp,
                      spec.max_timestamp.value_or(max_timestamp));
    big_endian::store(header + batch_field::producer_id, spec.producer_id);
    big_endian::store(header + batch_field::producer_epoch, spec.producer_epoch);
    big_endian::store(header + batch_field::base_sequence, spec.base_sequence);
    big_endian::store(header + batch_field::records_count,
                      static_cast<int32_t>(spec.records.size()));
    update_crc(out);
    return out;
}

}  // namespace ringlog::net::kafka
