// BatchBuilder: see batch_builder.h. A record is (RECORD-BATCH.md): length varint, attributes
// int8, timestampDelta varlong, offsetDelta varint, key length varint (-1: null) and key,
// value length varint and value, header count varint (0).
#include "tools/ringlog/bench/batch_builder.h"

#include <cstring>

#include <absl/strings/str_format.h>

#include "net/kafka/crc32c.h"
#include "net/kafka/record_batch.h"
#include "net/kafka/varint.h"

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

}  // namespace

BatchBuilder::BatchBuilder(size_t value_bytes, int32_t keys, uint64_t seed)
    : value_bytes_(value_bytes), keys_(keys), random_(seed | 1), filler_(value_bytes) {
    for (auto& byte : filler_) {
        byte = static_cast<std::byte>(next_random(random_));
    }
    for (int32_t i = 0; i < keys_; ++i) {
        key_table_.push_back(absl::StrFormat("key-%010d", i));
    }
}

size_t BatchBuilder::bytes_max(size_t count) const {
    // Per record: length (5) + attributes (1) + timestamp delta (1: always 0) + offset delta
    // (5) + key length (5) + key (14) + value length (5) + headers (1).
    constexpr size_t record_overhead_max = 5 + 1 + 1 + 5 + 5 + 14 + 5 + 1;
    return net::kafka::batch_header_bytes + count * (record_overhead_max + value_bytes_);
}

size_t BatchBuilder::build(std::vector<std::byte>& out, std::span<const int64_t> intended_ns,
                           uint64_t first_sequence, int64_t timestamp_ms) {
    const size_t count = intended_ns.size();
    if (out.size() < bytes_max(count)) {
        out.resize(bytes_max(count));
    }
    std::byte* const begin = out.data();
    std::byte* p = begin + net::kafka::batch_header_bytes;
    for (size_t i = 0; i < count; ++i) {
        const std::string* key = nullptr;
        if (keys_ > 0) {
            key = &key_table_[next_random(random_) % static_cast<uint64_t>(keys_)];
        }
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
        std::memcpy(p, filler_.data(), value_bytes_);
        const PayloadStamp stamp{intended_ns[i], first_sequence + i};
        std::memcpy(p, &stamp, std::min(value_bytes_, payload_stamp_bytes));
        p += value_bytes_;
        *p++ = std::byte{0};  // headers
    }
    const auto size = static_cast<size_t>(p - begin);
    store<int64_t>(begin + field::base_offset, 0);
    store<int32_t>(begin + field::batch_length,
                   static_cast<int32_t>(size - net::kafka::batch_log_overhead_bytes));
    store<int32_t>(begin + field::partition_leader_epoch, -1);
    begin[field::magic] = static_cast<std::byte>(net::kafka::batch_magic);
    store<int16_t>(begin + field::attributes, 0);
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
