// Walks the record batches of a segment file from a position, checking each one's header and
// CRC-32C, and says how the valid data ended. Recovery uses it to find a torn tail, index
// rebuilds to re-learn positions, and `ringlog dump` to print and verify a segment.
#pragma once

#include <cstdint>
#include <string>

#include <absl/functional/function_ref.h>
#include <absl/status/statusor.h>

#include "io/file.h"
#include "io/task.h"
#include "net/kafka/record_batch.h"

namespace ringlog::core {

enum class ScanEnd {
    clean,    // the data ends at the limit or is followed by zeros (preallocated space)
    torn,     // a batch is cut off by the end of the file: a write that never finished
    invalid,  // bytes that are not a batch, or a batch whose CRC does not match
};

struct ScanResult {
    uint64_t valid_end = 0;  // position just past the last good batch
    uint64_t batch_count = 0;
    uint64_t crc_failures = 0;  // batches skipped over with a bad CRC (keep_going only)
    ScanEnd end = ScanEnd::clean;
    std::string detail;  // why the scan stopped, for logs
};

struct ScanOptions {
    uint64_t start = 0;
    uint64_t limit = UINT64_MAX;  // stop here even if the file is longer
    // Continue past a batch whose CRC is wrong when its header still parses (ringlog dump);
    // otherwise stop there (recovery: everything after it is suspect).
    bool keep_going_after_crc_error = false;
};

// Called for each batch whose header parses; crc_ok says whether its CRC matched. Returning
// false stops the scan at that batch (its bytes are not counted as valid).
using BatchVisitor = absl::FunctionRef<bool(uint64_t position,
                                            const net::kafka::RecordBatchView& batch, bool crc_ok)>;

[[nodiscard]] io::Task<absl::StatusOr<ScanResult>> scan_segment(io::File& file, ScanOptions options,
                                                                BatchVisitor visit);

}  // namespace ringlog::core
