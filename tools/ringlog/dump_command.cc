// `ringlog dump`: an operator's view of what is on disk. Reads segment files with the same
// scanner recovery uses, so what it calls corrupt is what recovery would cut off.
#include <cstdio>
#include <string>

#include <absl/strings/match.h>

#include "core/segment_index.h"
#include "core/segment_scanner.h"
#include "io/base/status_macros.h"
#include "io/reactor.h"
#include "io/uring_file_system.h"
#include "net/kafka/record_batch.h"
#include "tools/ringlog/commands.h"

namespace ringlog::tools {

namespace {

using net::kafka::RecordBatchView;

// Returns the exit code: 0 intact, 1 corrupt.
io::Task<absl::StatusOr<int>> dump_segment(io::FileSystem& fs, std::string path) {
    RL_CO_ASSIGN_OR_RETURN(std::unique_ptr<io::File> file,
                           co_await fs.open(path, {.read_only = true, .direct = true}));
    std::printf("%s\n", path.c_str());
    std::printf("%12s %20s %20s %8s %10s %14s %14s %7s %s\n", "position", "base_offset",
                "last_offset", "records", "bytes", "base_time", "max_time", "codec", "crc");
    core::ScanOptions options;
    options.keep_going_after_crc_error = true;
    RL_CO_ASSIGN_OR_RETURN(
        core::ScanResult scan,
        co_await core::scan_segment(
            *file, options, [](uint64_t position, const RecordBatchView& batch, bool crc_ok) {
                std::printf(
                    "%12lu %20ld %20ld %8d %10lu %14ld %14ld %7s %s\n",
                    static_cast<unsigned long>(position), static_cast<long>(batch.base_offset()),
                    static_cast<long>(batch.last_offset()), batch.records_count(),
                    static_cast<unsigned long>(batch.size_bytes()),
                    static_cast<long>(batch.base_timestamp()),
                    static_cast<long>(batch.max_timestamp()),
                    net::kafka::compression_name(batch.compression()), crc_ok ? "ok" : "MISMATCH");
                return true;
            }));
    (void)co_await file->close();
    const bool intact = scan.crc_failures == 0 && scan.end == core::ScanEnd::clean;
    std::printf("%lu batches, %lu bytes of valid data, %lu CRC failures; %s%s%s\n",
                static_cast<unsigned long>(scan.batch_count),
                static_cast<unsigned long>(scan.valid_end),
                static_cast<unsigned long>(scan.crc_failures),
                scan.end == core::ScanEnd::clean  ? "clean end"
                : scan.end == core::ScanEnd::torn ? "TORN"
                                                  : "INVALID DATA",
                scan.detail.empty() ? "" : ": ", scan.detail.c_str());
    co_return intact ? 0 : 1;
}

io::Task<absl::StatusOr<int>> dump_index(io::FileSystem& fs, std::string path, bool time_index) {
    RL_CO_ASSIGN_OR_RETURN(std::vector<std::byte> bytes, co_await io::read_whole_file(fs, path));
    std::printf("%s\n", path.c_str());
    absl::StatusOr<core::SegmentIndex> index = core::SegmentIndex::deserialize(bytes);
    if (!index.ok()) {
        std::printf("DAMAGED: %s (recovery rebuilds it from the segment)\n",
                    std::string(index.status().message()).c_str());
        co_return 1;
    }
    std::printf("%20s %20s\n", time_index ? "max_timestamp" : "offset",
                time_index ? "offset" : "position");
    for (const auto& entry : index->entries()) {
        std::printf("%20ld %20ld\n", static_cast<long>(entry.key), static_cast<long>(entry.value));
    }
    std::printf("%zu entries\n", index->entries().size());
    co_return 0;
}

}  // namespace

int dump_command(std::span<const std::string_view> args) {
    if (args.empty()) {
        std::fprintf(stderr, "usage: ringlog dump PATH...\n");
        return 2;
    }
    absl::StatusOr<std::unique_ptr<io::Reactor>> reactor = io::Reactor::create();
    if (!reactor.ok()) {
        std::fprintf(stderr, "ringlog dump: %s\n", std::string(reactor.status().message()).c_str());
        return 2;
    }
    io::UringFileSystem fs(**reactor);
    int exit_code = 0;
    for (std::string_view arg : args) {
        const std::string path(arg);
        absl::StatusOr<int> result =
            absl::EndsWith(path, ".timeindex") ? (*reactor)->block_on(dump_index(fs, path, true))
            : absl::EndsWith(path, ".index")   ? (*reactor)->block_on(dump_index(fs, path, false))
                                               : (*reactor)->block_on(dump_segment(fs, path));
        if (!result.ok()) {
            std::fprintf(stderr, "ringlog dump: %s: %s\n", path.c_str(),
                         std::string(result.status().message()).c_str());
            exit_code = 2;
        } else if (*result != 0 && exit_code == 0) {
            exit_code = *result;
        }
    }
    return exit_code;
}

}  // namespace ringlog::tools
