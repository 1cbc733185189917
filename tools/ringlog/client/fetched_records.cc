// for_each_fetched_record: see fetched_records.h.
#include "tools/ringlog/client/fetched_records.h"

#include <absl/strings/str_cat.h>

#include "net/kafka/record_batch.h"

namespace ringlog::tools::client {

namespace {

// What one batch may inflate to; Kafka's own bound on a batch is message.max.bytes (1 MiB by
// default), so this leaves room for a very compressible one.
constexpr size_t inflated_bytes_max = 256 * 1024 * 1024;

}  // namespace

absl::StatusOr<int64_t> for_each_fetched_record(
    std::span<const std::byte> records, int64_t fetch_offset, net::kafka::CodecContext& codec,
    std::vector<std::byte>& inflated, absl::FunctionRef<bool(const FetchedRecord&)> visit) {
    int64_t next = fetch_offset;
    while (records.size() >= net::kafka::batch_header_bytes) {
        absl::StatusOr<net::kafka::RecordBatchView> batch =
            net::kafka::RecordBatchView::parse(records);
        if (!batch.ok()) {
            if (absl::IsOutOfRange(batch.status())) {
                break;  // a partial batch at the end of the answer
            }
            return batch.status();
        }
        records = records.subspan(batch->size_bytes());
        if (batch->last_offset() < next) {
            continue;
        }
        if (const absl::Status crc = batch->validate_crc(); !crc.ok()) {
            return absl::DataLossError(
                absl::StrCat("batch at offset ", batch->base_offset(), ": ", crc.message()));
        }
        if (batch->is_control()) {
            next = batch->last_offset() + 1;
            continue;
        }
        std::span<const std::byte> bytes = batch->records_bytes();
        if (batch->compression() != net::kafka::Compression::none) {
            absl::StatusOr<size_t> size =
                codec.decompress(batch->compression(), bytes, inflated_bytes_max, inflated);
            if (!size.ok()) {
                return absl::DataLossError(
                    absl::StrCat("batch at offset ", batch->base_offset(),
                                 " does not inflate: ", size.status().message()));
            }
            bytes = std::span<const std::byte>(inflated.data(), *size);
        }
        net::kafka::RecordIterator iterator(bytes, batch->records_count());
        net::kafka::Record record;
        while (iterator.next(record)) {
            const int64_t offset = batch->base_offset() + record.offset_delta;
            if (offset < next) {
                continue;
            }
            if (!visit(FetchedRecord{.offset = offset, .key = record.key, .value = record.value})) {
                return offset;
            }
        }
        if (!iterator.status().ok()) {
            return absl::InvalidArgumentError(absl::StrCat("batch at offset ", batch->base_offset(),
                                                           ": ", iterator.status().message()));
        }
        next = batch->last_offset() + 1;
    }
    return next;
}

}  // namespace ringlog::tools::client
