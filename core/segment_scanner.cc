#include "core/segment_scanner.h"

#include <algorithm>

#include <absl/strings/str_cat.h>

#include "core/file_window.h"
#include "io/base/limits.h"
#include "io/base/status_macros.h"

namespace ringlog::core {

namespace {

using net::kafka::RecordBatchView;

constexpr size_t scan_window_bytes = 1024 * 1024;

bool all_zero(std::span<const std::byte> bytes) {
    return std::all_of(bytes.begin(), bytes.end(), [](std::byte b) { return b == std::byte{0}; });
}

int64_t batch_length_field(std::span<const std::byte> header) {
    uint32_t value = 0;
    for (size_t i = 8; i < 12; ++i) {
        value = (value << 8) | static_cast<uint8_t>(header[i]);
    }
    return static_cast<int32_t>(value);
}

}  // namespace

io::Task<absl::StatusOr<ScanResult>> scan_segment(io::File& file, ScanOptions options,
                                                  BatchVisitor visit) {
    RL_CO_ASSIGN_OR_RETURN(uint64_t file_size, file.size());
    const uint64_t limit = std::min(file_size, options.limit);
    FileWindow window(file, limit, scan_window_bytes);
    ScanResult result;
    result.valid_end = options.start;
    uint64_t position = options.start;
    constexpr size_t header_bytes = net::kafka::batch_header_bytes;

    while (true) {
        if (position >= limit) {
            result.end = ScanEnd::clean;
            break;
        }
        RL_CO_RETURN_IF_ERROR(co_await window.ensure(position, header_bytes));
        const uint64_t available = window.available(position);
        if (available < header_bytes) {
            const bool zeros = all_zero(window.bytes(position, available));
            result.end = zeros ? ScanEnd::clean : ScanEnd::torn;
            result.detail = absl::StrCat("batch header cut off at ", position);
            break;
        }
        const std::span<const std::byte> header = window.bytes(position, header_bytes);
        if (all_zero(header)) {
            result.end = ScanEnd::clean;
            result.detail = absl::StrCat("zeros from ", position);
            break;
        }
        const int64_t length = batch_length_field(header);
        const int64_t size = length + 12;
        if (size < static_cast<int64_t>(header_bytes)
            || size > static_cast<int64_t>(limits::batch_bytes_max)) {
            result.end = ScanEnd::invalid;
            result.detail = absl::StrCat("impossible batch length ", length, " at ", position);
            break;
        }
        RL_CO_RETURN_IF_ERROR(co_await window.ensure(position, size));
        if (window.available(position) < static_cast<uint64_t>(size)) {
            result.end = ScanEnd::torn;
            result.detail = absl::StrCat("batch of ", size, " bytes at ", position,
                                         " cut off by the end of the file at ", limit);
            break;
        }
        absl::StatusOr<RecordBatchView> batch =
            RecordBatchView::parse(window.bytes(position, size));
        if (!batch.ok()) {
            result.end = ScanEnd::invalid;
            result.detail = absl::StrCat("bad batch at ", position, ": ", batch.status().message());
            break;
        }
        const bool crc_ok = batch->validate_crc().ok();
        if (!crc_ok) {
            ++result.crc_failures;
            if (!options.keep_going_after_crc_error) {
                result.end = ScanEnd::invalid;
                result.detail = absl::StrCat("CRC mismatch in batch at ", position);
                break;
            }
        }
        if (!visit(position, *batch, crc_ok)) {
            result.end = ScanEnd::invalid;
            result.detail = absl::StrCat("batch at ", position, " out of sequence");
            break;
        }
        position += size;
        if (crc_ok) {
            result.valid_end = position;
            ++result.batch_count;
        }
    }
    co_return result;
}

}  // namespace ringlog::core
