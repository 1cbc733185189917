// The append hot path without the disk: copying batches into the log tail, alone and with the
// CRC-32C check folded into the copy, against a plain memcpy and a copy followed by a separate
// CRC pass. Reports bytes per second; the pool is recycled so memory stays bounded.
#include <cstring>
#include <vector>

#include <benchmark/benchmark.h>

#include "core/log_tail.h"
#include "net/kafka/crc32c.h"

namespace ringlog::core {
namespace {

constexpr size_t batch_bytes = 1024 * 1024;
constexpr size_t pool_chunks = 64;  // 64 MiB: larger than the L3 cache, like a real tail

std::vector<std::byte> source() {
    std::vector<std::byte> bytes(batch_bytes);
    for (size_t i = 0; i < bytes.size(); ++i) {
        bytes[i] = static_cast<std::byte>(i * 131 + 7);
    }
    return bytes;
}

template <typename Append>
void run(benchmark::State& state, Append append) {
    const auto batch = source();
    io::BufferPool pool(1024 * 1024, pool_chunks);
    auto tail = std::make_unique<LogTail>(&pool, 0);
    for (auto _ : state) {
        if (tail->memory_bytes() >= (pool_chunks - 2) * pool.buffer_bytes()) {
            tail = std::make_unique<LogTail>(&pool, 0);
        }
        benchmark::DoNotOptimize(append(*tail, batch));
    }
    state.SetBytesProcessed(state.iterations() * batch_bytes);
}

void BM_LogTail_Append(benchmark::State& state) {
    run(state, [](LogTail& tail, const std::vector<std::byte>& batch) {
        tail.append(batch);
        return 0u;
    });
}

void BM_LogTail_AppendThenCrc(benchmark::State& state) {
    run(state, [](LogTail& tail, const std::vector<std::byte>& batch) {
        const uint32_t crc = net::kafka::crc32c(std::span(batch).subspan(21));
        tail.append(batch);
        return crc;
    });
}

void BM_LogTail_AppendAndCrc(benchmark::State& state) {
    run(state, [](LogTail& tail, const std::vector<std::byte>& batch) {
        return tail.append_and_crc(batch, 21);
    });
}

BENCHMARK(BM_LogTail_Append);
BENCHMARK(BM_LogTail_AppendThenCrc);
BENCHMARK(BM_LogTail_AppendAndCrc);

}  // namespace
}  // namespace ringlog::core

BENCHMARK_MAIN();
