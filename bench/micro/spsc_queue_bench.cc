// The cross-shard queue: io::SpscQueue between two threads (the path every submit_to takes),
// one element at a time and drained in batches, in operations per second; plus the same
// queue on one thread, which is its cost without cache-line transfers.
#include <atomic>
#include <cstdint>
#include <thread>

#include <benchmark/benchmark.h>

#include "io/spsc_queue.h"

namespace ringlog::io {
namespace {

constexpr uint64_t items_per_run = 1 << 20;

// Args: queue capacity, batch size the consumer drains at most.
void BM_SpscQueue_TwoThreads(benchmark::State& state) {
    const auto capacity = static_cast<size_t>(state.range(0));
    const auto batch = static_cast<size_t>(state.range(1));
    for (auto _ : state) {
        SpscQueue<uint64_t> queue(capacity);
        std::atomic<bool> go{false};
        std::thread consumer([&] {
            while (!go.load(std::memory_order_acquire)) {
            }
            uint64_t received = 0;
            uint64_t sum = 0;
            while (received < items_per_run) {
                received += queue.pop_batch([&sum](uint64_t&& value) { sum += value; }, batch);
            }
            benchmark::DoNotOptimize(sum);
        });
        go.store(true, std::memory_order_release);
        for (uint64_t i = 0; i < items_per_run; ++i) {
            uint64_t value = i;
            while (!queue.try_push(std::move(value))) {
            }
        }
        consumer.join();
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * items_per_run));
}

void BM_SpscQueue_OneThread(benchmark::State& state) {
    SpscQueue<uint64_t> queue(1024);
    uint64_t sum = 0;
    for (auto _ : state) {
        for (uint64_t i = 0; i < 512; ++i) {
            uint64_t value = i;
            benchmark::DoNotOptimize(queue.try_push(std::move(value)));
        }
        queue.pop_batch([&sum](uint64_t&& value) { sum += value; });
    }
    benchmark::DoNotOptimize(sum);
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * 512));
}

BENCHMARK(BM_SpscQueue_TwoThreads)
    ->Args({1024, 1})
    ->Args({1024, 64})
    ->Args({16384, 256})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_SpscQueue_OneThread);

}  // namespace
}  // namespace ringlog::io

BENCHMARK_MAIN();
