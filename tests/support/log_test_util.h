// Helpers shared by the log's unit, fault and crash tests: batches with known content, and a
// reactor to drive tasks to completion.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <absl/status/statusor.h>

#include "core/log.h"
#include "io/reactor.h"
#include "net/kafka/record_batch.h"
#include "net/kafka/record_batch_builder.h"

namespace ringlog::testing {

// A batch of `records` records whose values are derived from `seed`, so a reader can tell
// exactly which batch it is looking at. Timestamps are timestamp_ms, +1 per record.
inline std::vector<std::byte> make_batch(uint64_t seed, int records, size_t value_bytes,
                                         int64_t timestamp_ms = 1'000'000) {
    net::kafka::BatchSpec spec;
    spec.base_timestamp = timestamp_ms;
    for (int i = 0; i < records; ++i) {
        std::string value(value_bytes, '\0');
        for (size_t j = 0; j < value_bytes; ++j) {
            value[j] = static_cast<char>('a' + (seed * 7 + i * 13 + j) % 26);
        }
        net::kafka::RecordSpec record;
        record.key = "k" + std::to_string(seed) + "-" + std::to_string(i);
        record.value = std::move(value);
        record.timestamp = timestamp_ms + i;
        spec.records.push_back(std::move(record));
    }
    return net::kafka::build_record_batch(spec);
}

// The bytes of `views` concatenated.
inline std::vector<std::byte> flatten(const std::vector<io::BufferView>& views) {
    std::vector<std::byte> out;
    for (const auto& view : views) {
        out.insert(out.end(), view.bytes().begin(), view.bytes().end());
    }
    return out;
}

// Splits a run of batches into (base offset, bytes with baseOffset zeroed and the leader epoch
// reset to the producer's -1) so they compare equal to what was appended.
struct StoredBatch {
    int64_t base_offset;
    std::vector<std::byte> as_produced;
};

inline std::vector<StoredBatch> split_batches(std::span<const std::byte> bytes) {
    std::vector<StoredBatch> out;
    size_t position = 0;
    while (position < bytes.size()) {
        auto batch = net::kafka::RecordBatchView::parse(bytes.subspan(position));
        if (!batch.ok()) {
            break;
        }
        StoredBatch stored{
            batch->base_offset(),
            {bytes.begin() + position, bytes.begin() + position + batch->size_bytes()}};
        std::fill(stored.as_produced.begin(), stored.as_produced.begin() + 8, std::byte{0});
        std::fill(stored.as_produced.begin() + 12, stored.as_produced.begin() + 16,
                  std::byte{0xff});
        out.push_back(std::move(stored));
        position += batch->size_bytes();
    }
    return out;
}

// Everything readable, from the log start to the high watermark, as base offset -> batch as
// produced; the first failed read's status instead.
inline absl::StatusOr<std::map<int64_t, std::vector<std::byte>>> readable_batches(
    io::Reactor& reactor, core::Log& log) {
    std::map<int64_t, std::vector<std::byte>> out;
    core::Offset from = log.log_start_offset();
    while (from < log.high_watermark()) {
        auto result = reactor.block_on(log.read(from, 256 * 1024));
        if (!result.ok()) {
            return result.status();
        }
        if (result->views.empty()) {
            break;
        }
        for (auto& batch : split_batches(flatten(result->views))) {
            out[batch.base_offset] = std::move(batch.as_produced);
        }
        from = result->next_offset;
    }
    return out;
}

inline std::unique_ptr<io::Reactor> make_reactor() {
    auto reactor = io::Reactor::create();
    if (!reactor.ok()) {
        std::abort();
    }
    return *std::move(reactor);
}

}  // namespace ringlog::testing
