// The log's read path: Log::read of whole batches from the in-memory tail (what a consumer
// keeping up gets) and from the segment files (a catching-up consumer: O_DIRECT reads into
// aligned buffers), in bytes per second. The reads return views, so what is measured is
// finding the batches and pinning their buffers, plus the disk reads for the second case.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <benchmark/benchmark.h>

#include "core/log.h"
#include "io/base/limits.h"
#include "io/reactor.h"
#include "io/uring_file_system.h"
#include "net/kafka/record_batch_builder.h"

namespace ringlog::core {
namespace {

std::string bench_dir() {
    const char* dir = std::getenv("RINGLOG_BENCH_DIR");
    return std::string(dir != nullptr ? dir : "/var/tmp") + "/ringlog-read-bench";
}

std::vector<std::byte> batch_of(size_t records, size_t value_bytes) {
    net::kafka::BatchSpec spec;
    spec.base_timestamp = 1'700'000'000'000;
    for (size_t i = 0; i < records; ++i) {
        net::kafka::RecordSpec record;
        record.value = std::string(value_bytes, static_cast<char>('a' + i % 26));
        record.timestamp = spec.base_timestamp;
        spec.records.push_back(std::move(record));
    }
    return net::kafka::build_record_batch(spec);
}

void check(const absl::Status& status, const char* what) {
    if (!status.ok()) {
        std::fprintf(stderr, "%s: %s\n", what, std::string(status.message()).c_str());
        std::abort();
    }
}

io::Task<void> fill(Log& log, const std::vector<std::byte>& batch, size_t count) {
    for (size_t i = 0; i < count; ++i) {
        check((co_await log.append(batch, AppendWait::in_memory)).status(), "append");
    }
    check(co_await log.flush(), "flush");
}

io::Task<uint64_t> read_all(Log& log, size_t bytes_max) {
    uint64_t bytes = 0;
    Offset offset = log.log_start_offset();
    while (offset < log.high_watermark()) {
        auto result = co_await log.read(offset, bytes_max);
        check(result.status(), "read");
        bytes += result->bytes;
        offset = result->next_offset;
    }
    co_return bytes;
}

// Args: tail bytes (0: a tail too small to hold the data, so reads go to the files),
// bytes per read.
void BM_Log_Read(benchmark::State& state) {
    const auto tail_bytes = static_cast<size_t>(state.range(0));
    const auto read_bytes = static_cast<size_t>(state.range(1));
    auto reactor = io::Reactor::create();
    check(reactor.status(), "reactor");
    io::UringFileSystem fs(**reactor);
    std::filesystem::remove_all(bench_dir());
    std::filesystem::create_directories(bench_dir());
    LogConfig config;
    config.durability = Durability::none;
    config.segment_bytes = 256LL * 1024 * 1024;
    config.prewrite_ahead_bytes = 0;
    config.tail_bytes_max = tail_bytes == 0 ? 4 * 1024 * 1024 : tail_bytes;
    auto log = (*reactor)->block_on(Log::open(fs, bench_dir() + "/log", config));
    check(log.status(), "open");
    const auto batch = batch_of(64, 1024);  // 64 KiB batches
    constexpr size_t batches = 1024;        // 64 MiB
    (*reactor)->block_on(fill(**log, batch, batches));
    uint64_t total = 0;
    for (auto _ : state) {
        total += (*reactor)->block_on(read_all(**log, read_bytes));
    }
    // Reads from the tail return views: bytes/s there is how fast batches are found and
    // pinned, not a copy rate; items/s counts batches.
    state.SetBytesProcessed(static_cast<int64_t>(total));
    state.SetItemsProcessed(static_cast<int64_t>(total / batch.size()));
    check((*reactor)->block_on((*log)->close()), "close");
    log->reset();
    std::filesystem::remove_all(bench_dir());
}

BENCHMARK(BM_Log_Read)
    ->Args({128 * 1024 * 1024, 1024 * 1024})
    ->Args({128 * 1024 * 1024, 64 * 1024})
    ->Args({0, 1024 * 1024})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace ringlog::core

BENCHMARK_MAIN();
