// Log append throughput and durable-append latency, next to the raw device doing the same job
// in the same run: O_DIRECT sequential writes of the same bytes to a pre-written file, and
// write + fdatasync of the same size. Absolute numbers drift on a shared machine; the ratios
// printed at the end are the result. Files go to $RINGLOG_BENCH_DIR (default /var/tmp).
//
//   build/release/bench/log_append_bench [--benchmark_filter=...]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include <benchmark/benchmark.h>

#include "core/log.h"
#include "io/base/limits.h"
#include "io/reactor.h"
#include "io/task_group.h"
#include "io/uring_file_system.h"
#include "net/kafka/record_batch_builder.h"

namespace ringlog::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Each run writes $RINGLOG_BENCH_MIB (default 1024) MiB into a file of twice that size. Longer
// runs get closer to the disk's sustained rate (LIMITS.md D2) and away from the host's
// write-back cache bursts (D3).
int64_t run_mib() {
    const char* value = std::getenv("RINGLOG_BENCH_MIB");
    return value != nullptr ? std::max(64L, std::atol(value)) : 1024;
}

const int64_t bytes_per_run = run_mib() * 1024 * 1024;
const int64_t file_bytes = 2 * bytes_per_run;
constexpr size_t record_bytes = 1024;

std::string bench_dir() {
    const char* dir = std::getenv("RINGLOG_BENCH_DIR");
    return std::string(dir != nullptr ? dir : "/var/tmp") + "/ringlog-bench";
}

// A batch of 1 KiB records adding up to about `batch_bytes`.
std::vector<std::byte> batch_of(size_t batch_bytes) {
    net::kafka::BatchSpec spec;
    spec.base_timestamp = 1'700'000'000'000;
    const size_t records = std::max<size_t>(1, batch_bytes / (record_bytes + 20));
    for (size_t i = 0; i < records; ++i) {
        net::kafka::RecordSpec record;
        record.value = std::string(record_bytes, static_cast<char>('a' + i % 26));
        record.timestamp = spec.base_timestamp;
        spec.records.push_back(std::move(record));
    }
    return net::kafka::build_record_batch(spec);
}

struct Env {
    std::unique_ptr<io::Reactor> reactor;
    std::unique_ptr<io::UringFileSystem> fs;

    Env() {
        auto created = io::Reactor::create();
        if (!created.ok()) {
            std::fprintf(stderr, "reactor: %s\n", std::string(created.status().message()).c_str());
            std::abort();
        }
        reactor = *std::move(created);
        fs = std::make_unique<io::UringFileSystem>(*reactor);
        std::filesystem::remove_all(bench_dir());
        std::filesystem::create_directories(bench_dir());
    }

    ~Env() { std::filesystem::remove_all(bench_dir()); }
};

void check(const absl::Status& status, const char* what) {
    if (!status.ok()) {
        std::fprintf(stderr, "%s: %s\n", what, std::string(status.message()).c_str());
        std::abort();
    }
}

// ---- raw baselines ----

// A file whose blocks have all been written once, like the log's pre-written segments.
io::Task<std::unique_ptr<io::File>> prewritten_file(io::FileSystem& fs, std::string path) {
    auto file = co_await fs.open(path, {.create = true});
    check(file.status(), "open raw file");
    check(co_await (*file)->allocate(0, file_bytes), "allocate");
    io::BufferRef zeros = io::BufferRef::allocate(4 * 1024 * 1024);
    std::fill(zeros->data(), zeros->data() + zeros->size(), std::byte{0});
    for (int64_t position = 0; position < file_bytes; position += zeros->size()) {
        check(co_await io::write_all(**file, position, zeros->span()), "prewrite");
    }
    check(co_await (*file)->datasync(), "sync");
    co_return *std::move(file);
}

struct Cursor {
    int64_t next = 0;
};

// One of queue_depth writers taking the next block of the file until the run is done.
io::Task<void> raw_writer(io::File& file, io::Buffer& buffer, size_t block, Cursor& cursor) {
    while (cursor.next + static_cast<int64_t>(block) <= bytes_per_run) {
        const int64_t position = cursor.next;
        cursor.next += block;
        check(co_await io::write_all(file, position, {buffer.data(), block},
                                     {.fixed_index = buffer.fixed_index()}),
              "raw write");
    }
}

io::Task<void> raw_write(io::File& file, io::Buffer& buffer, size_t block, int queue_depth) {
    io::TaskGroup writers;
    Cursor cursor;
    for (int i = 0; i < queue_depth; ++i) {
        writers.spawn(raw_writer(file, buffer, block, cursor));
    }
    co_await writers.wait_idle();
    check(co_await file.datasync(), "raw sync");
}

void BM_RawWrite(benchmark::State& state) {
    const size_t block = state.range(0);
    const int queue_depth = static_cast<int>(state.range(1));
    Env env;
    io::BufferPool pool(block, 1);
    check(env.reactor->register_buffers(pool), "register");
    io::BufferRef buffer = pool.try_get();
    std::fill(buffer->data(), buffer->data() + block, std::byte{'x'});
    auto file = env.reactor->block_on(prewritten_file(*env.fs, bench_dir() + "/raw"));
    for (auto _ : state) {
        const auto start = Clock::now();
        env.reactor->block_on(raw_write(*file, *buffer.get(), block, queue_depth));
        state.SetIterationTime(std::chrono::duration<double>(Clock::now() - start).count());
    }
    state.SetBytesProcessed(state.iterations() * bytes_per_run);
    check(env.reactor->block_on(file->close()), "close");
}

// ---- log appends ----

struct Budget {
    int64_t remaining = bytes_per_run;
};

// One of several appenders sharing a byte budget: with `always`, they are the concurrent
// producers whose appends group commit gathers into one write and one sync.
io::Task<void> appender(core::Log& log, std::span<const std::byte> batch, Budget& budget) {
    while (budget.remaining > 0) {
        budget.remaining -= batch.size();
        auto result = co_await log.append(batch);
        check(result.status(), "append");
    }
}

io::Task<void> append_run(core::Log& log, std::span<const std::byte> batch, int appenders) {
    Budget budget;
    io::TaskGroup group;
    for (int i = 0; i < appenders; ++i) {
        group.spawn(appender(log, batch, budget));
    }
    co_await group.wait_idle();
    check(co_await log.flush(), "flush");
}

void BM_LogAppend(benchmark::State& state) {
    const size_t batch_bytes = state.range(0);
    const auto durability = static_cast<core::Durability>(state.range(1));
    const int appenders = static_cast<int>(state.range(2));
    const bool prewrite = state.range(3) != 0;
    Env env;
    const auto batch = batch_of(batch_bytes);
    io::BufferPool pool(limits::tail_chunk_bytes, 64);
    check(env.reactor->register_buffers(pool), "register");
    for (auto _ : state) {
        state.PauseTiming();
        std::filesystem::remove_all(bench_dir() + "/log");
        core::LogConfig config;
        config.segment_bytes = file_bytes;
        config.prewrite_ahead_bytes = prewrite ? file_bytes : 0;
        config.durability = durability;
        config.tail_bytes_max = 8 * 1024 * 1024;
        auto log = env.reactor->block_on(
            core::Log::open(*env.fs, bench_dir() + "/log", config, core::Clock::system(), &pool));
        check(log.status(), "open log");
        check(env.reactor->block_on((*log)->wait_prewritten()), "prewrite");
        state.ResumeTiming();
        const auto start = Clock::now();
        env.reactor->block_on(append_run(**log, batch, appenders));
        state.SetIterationTime(std::chrono::duration<double>(Clock::now() - start).count());
        state.counters["syncs"] = static_cast<double>((*log)->stats().syncs);
        check(env.reactor->block_on((*log)->close()), "close");
    }
    state.SetBytesProcessed(state.iterations() * bytes_per_run);
}

// ---- latency ----

double percentile(std::vector<double>& samples, double p) {
    std::sort(samples.begin(), samples.end());
    return samples[std::min(samples.size() - 1, static_cast<size_t>(p * samples.size()))];
}

constexpr int latency_samples = 3000;

io::Task<std::vector<double>> raw_sync_latencies(io::File& file, io::Buffer& buffer, size_t size) {
    std::vector<double> samples;
    for (int i = 0; i < latency_samples; ++i) {
        const auto start = Clock::now();
        check(co_await io::write_all(file, static_cast<int64_t>(i) * size, {buffer.data(), size},
                                     {.fixed_index = buffer.fixed_index()}),
              "write");
        check(co_await file.datasync(), "sync");
        samples.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    }
    co_return samples;
}

io::Task<std::vector<double>> append_latencies(core::Log& log, std::span<const std::byte> batch) {
    std::vector<double> samples;
    for (int i = 0; i < latency_samples; ++i) {
        const auto start = Clock::now();
        check((co_await log.append(batch)).status(), "append");
        samples.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    }
    co_return samples;
}

void report_latency(benchmark::State& state, std::vector<double> samples) {
    state.counters["p50_us"] = percentile(samples, 0.50);
    state.counters["p99_us"] = percentile(samples, 0.99);
}

void BM_RawWriteSyncLatency(benchmark::State& state) {
    const size_t size = state.range(0);
    Env env;
    io::BufferPool pool(size, 1);
    check(env.reactor->register_buffers(pool), "register");
    io::BufferRef buffer = pool.try_get();
    auto file = env.reactor->block_on(prewritten_file(*env.fs, bench_dir() + "/raw"));
    for (auto _ : state) {
        report_latency(state,
                       env.reactor->block_on(raw_sync_latencies(*file, *buffer.get(), size)));
    }
    state.SetItemsProcessed(state.iterations() * latency_samples);
    check(env.reactor->block_on(file->close()), "close");
}

void BM_DurableAppendLatency(benchmark::State& state) {
    const size_t batch_bytes = state.range(0);
    Env env;
    const auto batch = batch_of(batch_bytes);
    io::BufferPool pool(limits::tail_chunk_bytes, 16);
    check(env.reactor->register_buffers(pool), "register");
    core::LogConfig config;
    config.segment_bytes = file_bytes;
    config.prewrite_ahead_bytes = 256 * 1024 * 1024;
    config.durability = core::Durability::always;
    config.sync_method = static_cast<core::SyncMethod>(state.range(1));
    auto log = env.reactor->block_on(
        core::Log::open(*env.fs, bench_dir() + "/log", config, core::Clock::system(), &pool));
    check(log.status(), "open log");
    check(env.reactor->block_on((*log)->wait_prewritten()), "prewrite");
    for (auto _ : state) {
        report_latency(state, env.reactor->block_on(append_latencies(**log, batch)));
    }
    state.SetItemsProcessed(state.iterations() * latency_samples);
    check(env.reactor->block_on((*log)->close()), "close");
}

constexpr int64_t none = static_cast<int64_t>(core::Durability::none);
constexpr int64_t always = static_cast<int64_t>(core::Durability::always);

BENCHMARK(BM_RawWrite)
    ->ArgNames({"block", "qd"})
    ->Args({1 << 20, 1})
    ->Args({1 << 20, 4})
    ->UseManualTime()
    ->Iterations(1)
    ->Repetitions(3)
    ->ReportAggregatesOnly(true)
    ->Unit(benchmark::kMillisecond);

BENCHMARK(BM_LogAppend)
    ->ArgNames({"batch", "durability", "appenders", "prewritten"})
    ->Args({16 << 10, none, 1, 1})
    ->Args({64 << 10, none, 1, 1})
    ->Args({1 << 20, none, 1, 1})
    ->Args({16 << 10, always, 64, 1})
    ->Args({64 << 10, always, 16, 1})
    ->Args({64 << 10, always, 64, 1})
    ->Args({64 << 10, always, 64, 0})
    ->Args({1 << 20, always, 4, 1})
    ->UseManualTime()
    ->Iterations(1)
    ->Repetitions(3)
    ->ReportAggregatesOnly(true)
    ->Unit(benchmark::kMillisecond);

BENCHMARK(BM_RawWriteSyncLatency)
    ->ArgNames({"bytes"})
    ->Arg(4096)
    ->Iterations(1)
    ->Repetitions(3)
    ->ReportAggregatesOnly(true)
    ->Unit(benchmark::kMillisecond);

BENCHMARK(BM_DurableAppendLatency)
    ->ArgNames({"batch", "dsync"})
    ->Args({1024, 0})
    ->Args({1024, 1})
    ->Iterations(1)
    ->Repetitions(3)
    ->ReportAggregatesOnly(true)
    ->Unit(benchmark::kMillisecond);

// Collects the medians so the ratios can be printed after the run.
class RatioReporter : public benchmark::ConsoleReporter {
public:
    void ReportRuns(const std::vector<Run>& runs) override {
        ConsoleReporter::ReportRuns(runs);
        for (const Run& run : runs) {
            if (run.aggregate_name != "median") {
                continue;
            }
            // "BM_X/a:1/b:2/iterations:1/repeats:3/manual_time" -> "BM_X/a:1/b:2"
            std::string name = run.run_name.str();
            name = name.substr(0, name.find("/iterations"));
            for (const auto& [counter, value] : run.counters) {
                medians_[name][counter] = value.value;
            }
        }
    }

    void print_ratios() const {
        const double raw_qd1 = get("BM_RawWrite/block:1048576/qd:1", "bytes_per_second");
        const double raw_qd4 = get("BM_RawWrite/block:1048576/qd:4", "bytes_per_second");
        const double raw = std::max(raw_qd1, raw_qd4);
        std::printf(
            "\nRatios (medians of this run; raw = the better of 1 MiB O_DIRECT writes at qd1 "
            "(%.0f MB/s) and qd4 (%.0f MB/s) = %.0f MB/s; durability 0 = always, 2 = none)\n",
            raw_qd1 / 1e6, raw_qd4 / 1e6, raw / 1e6);
        for (const auto& [name, counters] : medians_) {
            if (name.rfind("BM_LogAppend", 0) != 0) {
                continue;
            }
            const double bytes = counters.at("bytes_per_second");
            std::printf("  %-64s %8.0f MB/s  log/raw %.2f\n", name.c_str(), bytes / 1e6,
                        bytes / raw);
        }
        const double raw_p50 = get("BM_RawWriteSyncLatency/bytes:4096", "p50_us");
        const double raw_p99 = get("BM_RawWriteSyncLatency/bytes:4096", "p99_us");
        std::printf("  raw 4 KiB write+fdatasync: p50 %.0f us, p99 %.0f us\n", raw_p50, raw_p99);
        for (const char* method : {"0", "1"}) {
            const std::string name =
                std::string("BM_DurableAppendLatency/batch:1024/dsync:") + method;
            const double p50 = get(name, "p50_us");
            const double p99 = get(name, "p99_us");
            std::printf("  durable append (%s): p50 %.0f us, p99 %.0f us; p99 log/raw %.2f\n",
                        method[0] == '0' ? "write+fdatasync" : "RWF_DSYNC", p50, p99,
                        p99 / raw_p99);
        }
    }

private:
    double get(const std::string& name, const std::string& counter) const {
        auto it = medians_.find(name);
        if (it == medians_.end() || !it->second.count(counter)) {
            return 0;
        }
        return it->second.at(counter);
    }

    std::map<std::string, std::map<std::string, double>> medians_;
};

}  // namespace
}  // namespace ringlog::bench

int main(int argc, char** argv) {
    // Interleave the repetitions of all benchmarks, so that raw and log runs meet the same
    // device state (the disk's speed drifts by 20-30 % over a minute on this machine).
    std::vector<char*> args(argv, argv + argc);
    std::string interleave = "--benchmark_enable_random_interleaving=true";
    args.insert(args.begin() + 1, interleave.data());
    argc = static_cast<int>(args.size());
    argv = args.data();
    benchmark::Initialize(&argc, argv);
    ringlog::bench::RatioReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    reporter.print_ratios();
    benchmark::Shutdown();
    return 0;
}
