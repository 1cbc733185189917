// BatchBuilder: writes the load generator's record batches (magic v2) straight into a
// reusable buffer: no allocation per message or per batch once the buffers have grown. With a
// codec, the records are written into a scratch buffer and compressed (net/kafka's
// CodecContext, the codecs the broker reads) into the batch, whose attributes name the codec.
// Each value starts with the message's intended send time (steady clock, ns, little-endian)
// and a sequence number, so a consumer in the same process can measure end-to-end latency;
// the rest is filler: one fixed pseudo-random block, or (--value-entropy B) a slice of a pool
// of bytes with B bits of entropy each, different for each value. net/kafka's
// record_batch_builder.h builds batches from a description for tests; this one is for
// throughput.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "net/kafka/codec_context.h"
#include "net/kafka/record_batch.h"
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
    // Keys given to build() are at most `key_bytes_max` long; `entropy_bits` is
    // value_entropy_fixed or 0-8 (options.h).
    BatchBuilder(size_t value_bytes, size_t key_bytes_max, int entropy_bits,
                 net::kafka::Compression codec, uint64_t seed);

    // Writes one batch of intended_ns.size() messages into `out` (grown when too small, never
    // shrunk) and returns its size in bytes. Message i carries intended_ns[i], sequence
    // `first_sequence + i` and key keys[i] (`keys` empty: null keys); every record's timestamp
    // is `timestamp_ms`.
    size_t build(std::vector<std::byte>& out, std::span<const int64_t> intended_ns,
                 std::span<const std::string_view> keys, uint64_t first_sequence,
                 int64_t timestamp_ms);

    // The bound build() grows `out` to for `count` messages.
    size_t bytes_max(size_t count) const;

private:
    // The records, uncompressed, from `p`; returns their end.
    std::byte* write_records(std::byte* p, std::span<const int64_t> intended_ns,
                             std::span<const std::string_view> keys, uint64_t first_sequence);
    size_t records_bytes_max(size_t count) const;
    const std::byte* next_filler();

    size_t value_bytes_;
    size_t key_bytes_max_;
    net::kafka::Compression codec_;
    uint64_t random_;
    std::vector<std::byte> filler_;   // fixed: value_bytes_; else a pool to take slices from
    size_t pool_offset_ = 0;          // where the next value's slice starts
    std::vector<std::byte> records_;  // with a codec: the records before compression
    net::kafka::CodecContext codec_context_;
};

// Calls visit(value bytes) for each record of an uncompressed (or already inflated) v2
// batch's records section; false if the records are malformed.
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
