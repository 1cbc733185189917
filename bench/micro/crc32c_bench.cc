// CRC-32C throughput: the SSE4.2 three-chain path against the portable slicing-by-8 loop, on
// 1 KiB (a small batch), 64 KiB and 1 MiB (a large batch, in cache). Compare with LIMITS.md
// M2/M3 (~7 GB/s for one chain, ~14-19 GB/s for three).
//
//   build/release/bench/crc32c_bench
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "net/kafka/crc32c.h"

namespace ringlog::bench {
namespace {

std::vector<std::byte> random_bytes(size_t size) {
    std::mt19937_64 random(42);
    std::vector<std::byte> bytes(size);
    for (auto& byte : bytes) {
        byte = static_cast<std::byte>(random());
    }
    return bytes;
}

template <uint32_t (*crc32c)(std::span<const std::byte>, uint32_t)>
void run(benchmark::State& state) {
    const std::vector<std::byte> data = random_bytes(static_cast<size_t>(state.range(0)));
    uint32_t crc = 0;
    for (auto _ : state) {
        crc = crc32c(data, crc);
        benchmark::DoNotOptimize(crc);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}

void BM_Crc32c_Hardware(benchmark::State& state) {
    if (!net::kafka::crc32c_hardware_supported()) {
        state.SkipWithError("no SSE4.2 on this CPU");
        return;
    }
    run<net::kafka::crc32c_hardware>(state);
}

void BM_Crc32c_Portable(benchmark::State& state) {
    run<net::kafka::crc32c_portable>(state);
}

BENCHMARK(BM_Crc32c_Hardware)
    ->Arg(1024)
    ->Arg(4 * 1024)
    ->Arg(16 * 1024)
    ->Arg(64 * 1024)
    ->Arg(1024 * 1024);
BENCHMARK(BM_Crc32c_Portable)->Arg(1024)->Arg(64 * 1024)->Arg(1024 * 1024);

}  // namespace
}  // namespace ringlog::bench

BENCHMARK_MAIN();
