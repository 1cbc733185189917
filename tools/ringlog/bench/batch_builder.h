// BatchBuilder: writes the load generator's record batches (magic v2, uncompressed) straight
// into a reusable buffer: no allocation per message or per batch once the buffer has grown.
// Each value starts with the message's intended send time (steady clock, ns, little-endian)
// and a sequence number, so a consumer in the same process can measure end-to-end latency;
// the rest is fixed pseudo-random filler. net/kafka/record_batch_builder.h builds batches from
// a description for tests; this one is for throughput.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "net/kafka/varint.h"

namespace ringlog::tools::bench {

// The first bytes of every value.
struct PayloadStamp {
    int64_t intended_ns;
    uint64_t sequence;
};

inline constexpr size_t payload_stamp_bytes = 16;

class BatchBuilder {
public:
    // `keys` distinct keys picked at random per message (0: null keys).
    BatchBuilder(size_t value_bytes, int32_t keys, uint64_t seed);

    // Writes one batch of intended_ns.size() messages into `out` (grown when too small, never
    // shrunk) and returns its size in bytes. Message i carries intended_ns[i] and sequence
    // `first_sequence + i`; every record's timestamp is `timestamp_ms`.
    size_t build(std::vector<std::byte>& out, std::span<const int64_t> intended_ns,
                 uint64_t first_sequence, int64_t timestamp_ms);

    // The bound build() grows `out` to for `count` messages.
    size_t bytes_max(size_t count) const;

private:
    size_t value_bytes_;
    int32_t keys_;
    uint64_t random_;
    std::vector<std::byte> filler_;
    std::vector<std::string> key_table_;
};

// Calls visit(value bytes) for each record of an uncompressed v2 batch's records section;
// false if the records are malformed.
// A record: length varint, attributes int8, timestampDelta varlong, offsetDelta varint, key
// length varint + key, value length varint + value, headers (skipped by the length).
template <typename Visit>
bool for_each_record_value(std::span<const std::byte> records, int32_t count, Visit&& visit) {
    size_t position = 0;
    for (int32_t i = 0; i < count; ++i) {
        int32_t length = 0;
        if (!net::kafka::read_varint(records, position, length) || length < 0
            || static_cast<size_t>(length) > records.size() - position) {
            return false;
        }
        const std::span<const std::byte> record =
            records.subspan(position, static_cast<size_t>(length));
        position += static_cast<size_t>(length);
        size_t at = 1;  // attributes
        int64_t timestamp_delta = 0;
        int32_t offset_delta = 0;
        int32_t key_length = 0;
        int32_t value_length = 0;
        if (!net::kafka::read_varlong(record, at, timestamp_delta)
            || !net::kafka::read_varint(record, at, offset_delta)
            || !net::kafka::read_varint(record, at, key_length)) {
            return false;
        }
        if (key_length > 0) {
            at += static_cast<size_t>(key_length);
        }
        if (at > record.size() || !net::kafka::read_varint(record, at, value_length)) {
            return false;
        }
        if (value_length < 0 || static_cast<size_t>(value_length) > record.size() - at) {
            continue;  // a null value carries no stamp
        }
        visit(record.subspan(at, static_cast<size_t>(value_length)));
    }
    return true;
}

// Reads the stamp of a value written by BatchBuilder; false if the value is too short.
bool read_payload_stamp(std::span<const std::byte> value, PayloadStamp& stamp);

}  // namespace ringlog::tools::bench
