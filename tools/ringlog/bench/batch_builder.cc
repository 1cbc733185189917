// BatchBuilder: see batch_builder.h. A record is (RECORD-BATCH.md): length varint, attributes
// int8, timestampDelta varlong, offsetDelta varint, key length varint (-1: null) and key,
// value length varint and value, header count varint (0).
#include "tools/ringlog/bench/batch_builder.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "io/base/assert.h"
#include "net/kafka/crc32c.h"
#include "net/kafka/record_batch.h"
#include "net/kafka/varint.h"
#include "tools/ringlog/bench/options.h"

namespace ringlog::tools::bench {

namespace {

namespace field = net::kafka::batch_field;
using net::kafka::big_endian::store;

uint64_t next_random(uint64_t& state) {
    // xorshift64*: cheap, and good enough to pick keys and fill values.
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545F4914F6CDD1DULL;
}

// --value-entropy B: values are slices of a pool of this many bytes (plus one value), each
// starting a little past where the previous one ended, so no value repeats another until 1 MiB
// of values has gone by: more than a batch (64 KiB by default), which each codec sees alone.
constexpr size_t pool_bytes = 1024 * 1024;
constexpr size_t pool_skip_bytes = 7;

// The symbols of a pool with B <= 6 bits per byte are printable, so such values look like
// text (base64's alphabet); 7 and 8 bits use byte values 0-127 and 0-255.
constexpr char printable[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

BatchBuilder::BatchBuilder(size_t value_bytes, size_t key_bytes_max, int entropy_bits,
                           net::kafka::Compression codec, uint64_t seed)
    : value_bytes_(value_bytes), key_bytes_max_(key_bytes_max), codec_(codec), random_(seed | 1) {
    if (entropy_bits == value_entropy_fixed) {
        filler_.resize(value_bytes);
        for (auto& byte : filler_) {
            byte = static_cast<std::byte>(next_random(random_));
        }
    } else {
        RL_ASSERT(entropy_bits >= 0 && entropy_bits <= 8);
        const uint64_t mask = (uint64_t{1} << entropy_bits) - 1;
        filler_.resize(pool_bytes + value_bytes);
        for (auto& byte : filler_) {
            const uint64_t symbol = next_random(random_) & mask;
            byte = static_cast<std::byte>(entropy_bits <= 6 ? printable[symbol] : symbol);
        }
        pool_offset_ = next_random(random_) % (pool_bytes + 1);
    }
}

const std::byte* BatchBuilder::next_filler() {
    if (filler_.size() == value_bytes_) {
        return filler_.data();
    }
    const std::byte* value = filler_.data() + pool_offset_;
    pool_offset_ = (pool_offset_ + value_bytes_ + pool_skip_bytes) % (pool_bytes + 1);
    return value;
}

size_t BatchBuilder::records_bytes_max(size_t count) const {
    // Per record: length (5) + attributes (1) + timestamp delta (1: always 0) + offset delta
    // (5) + key length (5) + key + value length (5) + headers (1).
    const size_t record_overhead_max = 5 + 1 + 1 + 5 + 5 + key_bytes_max_ + 5 + 1;
    return count * (record_overhead_max + value_bytes_);
}

size_t BatchBuilder::bytes_max(size_t count) const {
    return net::kafka::batch_header_bytes
           + net::kafka::CodecContext::compress_bound(codec_, records_bytes_max(count));
}

std::byte* BatchBuilder::write_records(std::byte* p, std::span<const int64_t> intended_ns,
                                       std::span<const std::string_view> keys,
                                       uint64_t first_sequence) {
    const size_t count = intended_ns.size();
    RL_ASSERT(keys.empty() || keys.size() == count);
    for (size_t i = 0; i < count; ++i) {
        const std::string_view* key = keys.empty() ? nullptr : &keys[i];
        RL_ASSERT(key == nullptr || key->size() <= key_bytes_max_);
        const int64_t key_length = key == nullptr ? -1 : static_cast<int64_t>(key->size());
        const auto value_length = static_cast<int64_t>(value_bytes_);
        const size_t body = 1 + 1 + net::kafka::zigzag_size(static_cast<int64_t>(i))
                            + net::kafka::zigzag_size(key_length) + (key ? key->size() : 0)
                            + net::kafka::zigzag_size(value_length) + value_bytes_ + 1;
        p += net::kafka::write_zigzag(static_cast<int64_t>(body), p);
        *p++ = std::byte{0};                                        // attributes
        p += net::kafka::write_zigzag(0, p);                        // timestamp delta
        p += net::kafka::write_zigzag(static_cast<int64_t>(i), p);  // offset delta
        p += net::kafka::write_zigzag(key_length, p);
        if (key != nullptr) {
            std::memcpy(p, key->data(), key->size());
            p += key->size();
        }
        p += net::kafka::write_zigzag(value_length, p);
        std::memcpy(p, next_filler(), value_bytes_);
        const PayloadStamp stamp{intended_ns[i], first_sequence + i};
        std::memcpy(p, &stamp, std::min(value_bytes_, payload_stamp_bytes));
        p += value_bytes_;
        *p++ = std::byte{0};  // headers
    }
    return p;
}

size_t BatchBuilder::build(std::vector<std::byte>& out, std::span<const int64_t> intended_ns,
                           std::span<const std::string_view> keys, uint64_t first_sequence,
                           int64_t timestamp_ms) {
    const size_t count = intended_ns.size();
    if (out.size() < bytes_max(count)) {
        out.resize(bytes_max(count));
    }
    std::byte* const begin = out.data();
    std::byte* p = begin + net::kafka::batch_header_bytes;
    if (codec_ == net::kafka::Compression::none) {
        p = write_records(p, intended_ns, keys, first_sequence);
    } else {
        if (records_.size() < records_bytes_max(count)) {
            records_.resize(records_bytes_max(count));
        }
        const std::byte* records_end =
            write_records(records_.data(), intended_ns, keys, first_sequence);
        const std::span<const std::byte> records(records_.data(), records_end);
        // Our own records into a target of compress_bound() bytes: a failure is a bug.
        const absl::StatusOr<size_t> compressed =
            codec_context_.compress(codec_, records, std::span(p, begin + out.size()));
        RL_ASSERT(compressed.ok(), "%s", std::string(compressed.status().message()));
        p += *compressed;
    }
    const auto size = static_cast<size_t>(p - begin);
    store<int64_t>(begin + field::base_offset, 0);
    store<int32_t>(begin + field::batch_length,
                   static_cast<int32_t>(size - net::kafka::batch_log_overhead_bytes));
    store<int32_t>(begin + field::partition_leader_epoch, -1);
    begin[field::magic] = static_cast<std::byte>(net::kafka::batch_magic);
    store<int16_t>(begin + field::attributes, static_cast<int16_t>(codec_));
    store<int32_t>(begin + field::last_offset_delta, static_cast<int32_t>(count) - 1);
    store<int64_t>(begin + field::base_timestamp, timestamp_ms);
    store<int64_t>(begin + field::max_timestamp, timestamp_ms);
    store<int64_t>(begin + field::producer_id, -1);
    store<int16_t>(begin + field::producer_epoch, -1);
    store<int32_t>(begin + field::base_sequence, -1);
    store<int32_t>(begin + field::records_count, static_cast<int32_t>(count));
    const uint32_t crc =
        net::kafka::crc32c(std::span<const std::byte>(begin + net::kafka::batch_crc_begin, p));
    store<uint32_t>(begin + field::crc, crc);
    return size;
}

bool read_payload_stamp(std::span<const std::byte> value, PayloadStamp& stamp) {
    if (value.size() < payload_stamp_bytes) {
        return false;
    }
    std::memcpy(&stamp, value.data(), payload_stamp_bytes);
    return true;
}

}  // namespace ringlog::tools::bench
