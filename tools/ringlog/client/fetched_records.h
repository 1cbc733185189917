// The records of one partition's Fetch answer, as a consumer sees them: every batch walked in
// order, compressed ones inflated (net/kafka's CodecContext), control batches (transaction
// markers) skipped, records before the fetch offset (a batch starts before it) left out, and a
// partial batch at the end (the broker cuts answers at a byte limit) ignored.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include <absl/functional/function_ref.h>
#include <absl/status/statusor.h>

#include "net/kafka/codec_context.h"

namespace ringlog::tools::client {

struct FetchedRecord {
    int64_t offset = 0;
    std::optional<std::span<const std::byte>> key;    // nullopt: a null key
    std::optional<std::span<const std::byte>> value;  // nullopt: a null value
};

// Calls `visit` for each record at or after `fetch_offset`, until it returns false (it does
// not take that record). Returns the offset to fetch next: the record refused, or else the one
// after the last whole batch.
// kDataLoss for a batch that fails its CRC or does not inflate, kInvalidArgument for malformed
// records.
[[nodiscard]] absl::StatusOr<int64_t> for_each_fetched_record(
    std::span<const std::byte> records, int64_t fetch_offset, net::kafka::CodecContext& codec,
    std::vector<std::byte>& inflated, absl::FunctionRef<bool(const FetchedRecord&)> visit);

}  // namespace ringlog::tools::client
