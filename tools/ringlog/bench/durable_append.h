// The durable-write ceiling: what acks=all can reach at best on this disk. The broker syncs
// each partition's segment after each group of appends, so the pattern is several files, each
// written sequentially in blocks with an fdatasync after every block, all on one io_uring
// reactor (one shard). Measured twice: into pre-written files (the blocks exist: the ceiling
// for segments recycled after retention) and into fresh, growing files (every sync also
// commits new extents and the file size: the ceiling for new segments).
#pragma once

#include <cstddef>
#include <string>

#include <absl/status/statusor.h>

#include "io/reactor.h"

namespace ringlog::tools::bench {

struct DurableAppendOptions {
    std::string dir;
    int files = 8;
    size_t block_bytes = 1024 * 1024;  // one write, then one fdatasync, per block
    size_t total_bytes = 0;            // over all files; each file gets an equal share
    bool prewritten = true;            // overwrite written blocks, or grow fresh files
};

// MB/s (1e6 bytes per second) of the timed writes and syncs; the untimed pre-write, if any,
// is excluded. The files are unlinked at once and gone when this returns.
[[nodiscard]] absl::StatusOr<double> durable_append_mb_per_sec(io::Reactor& reactor,
                                                               const DurableAppendOptions& options);

}  // namespace ringlog::tools::bench
