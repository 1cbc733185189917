// Cross-shard calls: ShardSet::submit_to from shard 0 to shard 1 and back (the SPSC queues, the
// eventfd doorbell, the caller resumed at home), one call at a time (a round trip, so its
// latency) and 64 at a time (throughput), in calls per second.
#include <atomic>
#include <chrono>

#include <benchmark/benchmark.h>

#include "core/shard.h"
#include "core/shard_set.h"
#include "io/task_group.h"

namespace ringlog::core {
namespace {

constexpr int calls_per_run = 20000;

io::Task<void> call_many(Shard& shard, int count, std::atomic<int>& done) {
    for (int i = 0; i < count; ++i) {
        auto fn = [i] { return i + 1; };
        benchmark::DoNotOptimize(co_await shard.set().submit_to(ShardId(1), std::move(fn)));
    }
    done.fetch_add(count);
}

io::Task<void> call_concurrently(Shard& shard, int callers, std::atomic<int>& done) {
    io::TaskGroup group;
    for (int c = 0; c < callers; ++c) {
        group.spawn(call_many(shard, calls_per_run / callers, done));
    }
    co_await group.wait_idle();
}

// Arg: callers in flight on shard 0.
void BM_ShardSet_SubmitTo(benchmark::State& state) {
    const auto callers = static_cast<int>(state.range(0));
    ShardSet set(
        ShardSetOptions{.shard_count = 2, .queue_capacity = 1024, .pin = true, .reactor = {}});
    if (!set.start().ok()) {
        state.SkipWithError("shards did not start");
        return;
    }
    int total = 0;
    for (auto _ : state) {
        std::atomic<int> done{0};
        const auto start = std::chrono::steady_clock::now();
        set.run_on(ShardId(0), [callers, &done](Shard& shard) {
            return call_concurrently(shard, callers, done);
        });
        while (done.load() < calls_per_run / callers * callers) {
        }
        state.SetIterationTime(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        total += done.load();
    }
    set.stop();
    state.SetItemsProcessed(total);
}

BENCHMARK(BM_ShardSet_SubmitTo)->Arg(1)->Arg(64)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ringlog::core

BENCHMARK_MAIN();
