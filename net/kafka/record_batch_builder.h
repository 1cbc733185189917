// Builds uncompressed v2 record batches from a plain description, with lengths and CRC filled
// in, for tests, benchmarks and tools. Not for the data path: it allocates freely.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "net/kafka/record_batch.h"

namespace ringlog::net::kafka {

struct HeaderSpec {
    std::string key;
    std::optional<std::string> value;  // nullopt: a null header value
};

struct RecordSpec {
    std::optional<std::string> key;    // nullopt: a null key
    std::optional<std::string> value;  // nullopt: a null value (a tombstone)
    int64_t timestamp = 0;             // absolute; stored as a delta from base_timestamp
    std::vector<HeaderSpec> headers;
    // Default: the record's index in the batch. Set it to build gaps, as compaction leaves.
    std::optional<int32_t> offset_delta;
};

struct BatchSpec {
    std::vector<RecordSpec> records;
    int64_t base_offset = 0;
    int32_t partition_leader_epoch = -1;  // what producers send
    // -1: the first record's timestamp, as Kafka's producers do (stays -1 for an empty batch).
    int64_t base_timestamp = -1;
    // Default: the largest record timestamp (-1 for an empty batch).
    std::optional<int64_t> max_timestamp;
    // Default: the largest record offset delta (0 for an empty batch).
    std::optional<int32_t> last_offset_delta;
    int64_t producer_id = -1;
    int16_t producer_epoch = -1;
    int32_t base_sequence = -1;
    bool transactional = false;
    bool control = false;
    TimestampType timestamp_type = TimestampType::create_time;
};

// The batch's bytes: header, records (compression none), correct batchLength and CRC.
std::vector<std::byte> build_record_batch(const BatchSpec& spec);

}  // namespace ringlog::net::kafka
