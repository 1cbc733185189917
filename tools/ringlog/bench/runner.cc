// run_bench: see runner.h. Threads meet at a barrier once their connections are up, so the
// clock starts for all of them at once, and no connection set-up is measured.
#include "tools/ringlog/bench/runner.h"

#include <algorithm>
#include <barrier>
#include <cstdio>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <thread>

#include <absl/strings/str_cat.h>

#include "io/base/status_macros.h"
#include "io/event.h"
#include "io/reactor.h"
#include "io/task_group.h"
#include "tools/ringlog/bench/consumer.h"
#include "tools/ringlog/bench/producer.h"
#include "tools/ringlog/bench/run_context.h"

namespace ringlog::tools::bench {

namespace {

struct ConnectionPlan {
    bool producer = true;
    int32_t leader = 0;
    std::vector<int32_t> partitions;
    std::vector<int64_t> offsets;  // consumers only
    double rate = 0;
    uint64_t message_limit = 0;
};

// A worker thread's connections: producers, consumers, or (e2e with --consumer-threads 0)
// both, the consumers of the partitions its producers write.
struct WorkerPlan {
    std::vector<ConnectionPlan> connections;
};

struct WorkerResult {
    Recorder recorder;
    std::vector<std::string> errors;
};

// Partition p goes to thread p mod threads; a thread left without any (more threads than
// partitions) shares partition `thread mod partitions` when `share` is set. Within a thread,
// each leader's partitions are dealt over `connections` connections.
std::vector<WorkerPlan> plan_workers(const ClusterView& cluster, int threads, int connections,
                                     bool producer, bool share) {
    const auto partition_count = static_cast<int32_t>(cluster.leaders.size());
    std::vector<WorkerPlan> plans;
    for (int t = 0; t < threads; ++t) {
        std::map<int32_t, std::vector<int32_t>> by_leader;
        for (int32_t p = t; p < partition_count; p += threads) {
            by_leader[cluster.leaders[static_cast<size_t>(p)]].push_back(p);
        }
        if (by_leader.empty()) {
            if (!share) {
                continue;
            }
            const int32_t p = t % partition_count;
            by_leader[cluster.leaders[static_cast<size_t>(p)]].push_back(p);
        }
        WorkerPlan plan;
        for (const auto& [leader, partitions] : by_leader) {
            const int count = producer ? connections : 1;
            for (int c = 0; c < count; ++c) {
                ConnectionPlan connection;
                connection.producer = producer;
                connection.leader = leader;
                for (size_t i = static_cast<size_t>(c); i < partitions.size();
                     i += static_cast<size_t>(count)) {
                    connection.partitions.push_back(partitions[i]);
                }
                if (connection.partitions.empty()) {
                    connection.partitions.push_back(
                        partitions[static_cast<size_t>(c) % partitions.size()]);
                }
                plan.connections.push_back(std::move(connection));
            }
        }
        plans.push_back(std::move(plan));
    }
    return plans;
}

// Splits a total rate and message limit over the connections of `plans`: evenly, or with keys
// in proportion to the share of key weight on each connection's partitions (key_space.h).
// Connections whose share is nothing (no key lands on their partitions, or --messages leaves
// them none) are dropped, and so are workers left without connections.
int spread(std::vector<WorkerPlan>& plans, double rate, uint64_t messages,
           const KeySpace* key_space) {
    std::vector<double> weights;
    for (const WorkerPlan& plan : plans) {
        for (const ConnectionPlan& connection : plan.connections) {
            weights.push_back(key_space != nullptr ? key_space->share_of(connection.partitions)
                                                   : 1.0);
        }
    }
    double weight_total = 0;
    for (const double weight : weights) {
        weight_total += weight;
    }
    // --messages by largest remainder, so the limits add up to exactly `messages`.
    std::vector<uint64_t> limits(weights.size(), 0);
    if (messages > 0 && weight_total > 0) {
        uint64_t given = 0;
        std::vector<std::pair<double, size_t>> remainders;
        for (size_t i = 0; i < weights.size(); ++i) {
            const double exact = static_cast<double>(messages) * weights[i] / weight_total;
            limits[i] = static_cast<uint64_t>(exact);
            given += limits[i];
            remainders.emplace_back(exact - static_cast<double>(limits[i]), i);
        }
        std::stable_sort(remainders.begin(), remainders.end(),
                         [](const auto& a, const auto& b) { return a.first > b.first; });
        for (size_t i = 0; given < messages; i = (i + 1) % remainders.size()) {
            ++limits[remainders[i].second];
            ++given;
        }
    }
    int total = 0;
    size_t index = 0;
    for (WorkerPlan& plan : plans) {
        std::vector<ConnectionPlan> kept;
        for (ConnectionPlan& connection : plan.connections) {
            const double weight = weights[index];
            const uint64_t limit = limits[index];
            ++index;
            if (weight <= 0 || (messages > 0 && limit == 0)) {
                continue;
            }
            connection.rate = weight_total > 0 ? rate * weight / weight_total : 0;
            connection.message_limit = limit;
            kept.push_back(std::move(connection));
        }
        plan.connections = std::move(kept);
        total += static_cast<int>(plan.connections.size());
    }
    std::erase_if(plans, [](const WorkerPlan& plan) { return plan.connections.empty(); });
    return total;
}

io::Task<void> run_producer(ProducerConnection& connection, WorkerResult& result,
                            const RunContext& context) {
    const absl::Status status = co_await connection.run();
    if (!status.ok()) {
        result.errors.push_back(std::string(status.message()));
    }
    // e2e consumers stop once every producer connection is done (and they caught up).
    context.producers_running.fetch_sub(1, std::memory_order_release);
}

io::Task<void> run_consumer(FetchConnection& connection, WorkerResult& result) {
    const absl::Status status = co_await connection.run();
    if (!status.ok()) {
        result.errors.push_back(std::string(status.message()));
    }
}

// Publishes the numbers of each second, and of the last partial one when the worker ends.
io::Task<void> tick(const RunContext& context, Recorder& recorder, Progress& progress, int worker,
                    const bool& done, io::Notify& done_changed) {
    for (size_t index = 0;; ++index) {
        const int64_t due = context.start_ns + static_cast<int64_t>(index + 1) * 1'000'000'000;
        while (!done && steady_now_ns() < due) {
            (void)co_await done_changed.wait_for(std::chrono::nanoseconds(due - steady_now_ns()));
        }
        progress.publish(worker, index, recorder.second);
        recorder.second.reset();
        if (done) {
            break;
        }
    }
}

struct WorkerConnections {
    std::vector<std::unique_ptr<ProducerConnection>> producers;
    std::vector<std::unique_ptr<FetchConnection>> consumers;
};

io::Task<absl::Status> connect_all(const ClusterView& cluster, const WorkerPlan& plan,
                                   WorkerConnections& connections) {
    size_t producer = 0;
    size_t consumer = 0;
    for (const ConnectionPlan& connection : plan.connections) {
        const BrokerAddress* leader = cluster.broker(connection.leader);
        RL_ASSERT(leader != nullptr);
        const absl::Status status =
            connection.producer ? co_await connections.producers[producer++]->connect(*leader)
                                : co_await connections.consumers[consumer++]->connect(*leader);
        if (!status.ok()) {
            co_return status;
        }
    }
    co_return absl::OkStatus();
}

io::Task<void> run_worker(const RunContext& context, WorkerConnections& connections,
                          WorkerResult& result, Progress& progress, int worker) {
    bool done = false;
    io::Notify done_changed;
    io::TaskGroup ticker;
    ticker.spawn(tick(context, result.recorder, progress, worker, done, done_changed));
    io::TaskGroup group;
    for (auto& producer : connections.producers) {
        group.spawn(run_producer(*producer, result, context));
    }
    for (auto& consumer : connections.consumers) {
        group.spawn(run_consumer(*consumer, result));
    }
    co_await group.wait_idle();
    done = true;
    done_changed.notify_all();
    co_await ticker.wait_idle();
}

void worker_main(int worker, const WorkerPlan& plan, RunContext& context, Progress& progress,
                 std::barrier<std::function<void()>>& ready, WorkerResult& result) {
    io::ReactorOptions reactor_options;
    reactor_options.idle_spin = std::chrono::microseconds(context.options->idle_spin_us);
    if (context.options->busy_poll) {
        reactor_options.poll_spin_turns = std::numeric_limits<unsigned>::max();
    }
    absl::StatusOr<std::unique_ptr<io::Reactor>> reactor = io::Reactor::create(reactor_options);
    absl::Status status = reactor.status();
    std::unique_ptr<RequestPaths> paths;  // outlives the connections below, which use it
    WorkerConnections connections;
    if (status.ok()) {
        paths = std::make_unique<RequestPaths>(**reactor, *context.options, worker);
        uint64_t seed = 0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(worker + 1);
        for (const ConnectionPlan& connection : plan.connections) {
            if (connection.producer) {
                connections.producers.push_back(std::make_unique<ProducerConnection>(
                    **reactor, *paths, context, result.recorder, connection.partitions,
                    connection.rate, connection.message_limit, seed++));
            } else {
                connections.consumers.push_back(
                    std::make_unique<FetchConnection>(**reactor, *paths, context, result.recorder,
                                                      connection.partitions, connection.offsets));
            }
        }
        status = (*reactor)->block_on(connect_all(*context.cluster, plan, connections));
    }
    ready.arrive_and_wait();
    if (status.ok()) {
        (*reactor)->block_on(run_worker(context, connections, result, progress, worker));
    } else {
        result.errors.push_back(std::string(status.message()));
        for (const ConnectionPlan& connection : plan.connections) {
            if (connection.producer) {
                context.producers_running.fetch_sub(1, std::memory_order_release);
            }
        }
    }
    progress.worker_done(worker);
}

void print_progress(const BenchOptions& options, const RunContext& context, size_t index,
                    const Interval& second) {
    const bool consume = options.mode == Mode::consume;
    const uint64_t messages = consume ? second.consumed : second.produced;
    const uint64_t bytes = consume ? second.consumed_bytes : second.produced_bytes;
    const Histogram& latency = options.mode == Mode::e2e       ? second.e2e_latency
                               : options.mode == Mode::consume ? second.fetch_latency
                                                               : second.produce_latency;
    const bool warmup = context.start_ns + static_cast<int64_t>(index + 1) * 1'000'000'000
                        <= context.measure_start_ns;
    std::printf(
        "[%4zus] %-7s %12lu msg/s %9.1f MB/s  p50 %8.1f us  p99 %8.1f us  p99.9 %8.1f us%s%s\n",
        index + 1, mode_name(options.mode), static_cast<unsigned long>(messages),
        static_cast<double>(bytes) / 1e6, static_cast<double>(latency.quantile(0.5)) / 1e3,
        static_cast<double>(latency.quantile(0.99)) / 1e3,
        static_cast<double>(latency.quantile(0.999)) / 1e3, warmup ? "  (warm-up)" : "",
        second.failed > 0 ? absl::StrCat("  failed ", second.failed).c_str() : "");
    std::fflush(stdout);
}

io::Task<absl::StatusOr<std::vector<int64_t>>> start_offsets(io::Reactor& reactor,
                                                             const BenchOptions& options,
                                                             const ClusterView& cluster) {
    const bool latest = options.mode == Mode::e2e || options.from_latest;
    co_return co_await list_offsets(reactor, cluster, options.topic, latest ? -1 : -2);
}

}  // namespace

absl::StatusOr<BenchResult> run_bench(const BenchOptions& options) {
    BenchResult result;
    result.options = options;
    std::vector<int64_t> offsets;
    {
        RL_ASSIGN_OR_RETURN(std::unique_ptr<io::Reactor> reactor, io::Reactor::create());
        RL_ASSIGN_OR_RETURN(result.cluster, reactor->block_on(discover_cluster(*reactor, options)));
        if (options.mode != Mode::produce) {
            RL_ASSIGN_OR_RETURN(
                offsets, reactor->block_on(start_offsets(*reactor, options, result.cluster)));
        }
    }
    std::vector<WorkerPlan> plans;
    std::optional<KeySpace> key_space;
    if (options.mode != Mode::consume) {
        plans = plan_workers(result.cluster, options.threads, options.connections, true, true);
        if (options.keys > 0) {
            key_space.emplace(options.keys, options.key_distribution, options.zipf_exponent,
                              static_cast<int32_t>(result.cluster.leaders.size()));
        }
        result.producer_connections = spread(plans, options.rate, options.messages,
                                             key_space.has_value() ? &*key_space : nullptr);
    }
    if (options.mode != Mode::produce) {
        // e2e with --consumer-threads 0: producer thread t also consumes the partitions it
        // produces (p mod threads = t), so no thread of its own waits on the fetches.
        const bool shared = options.mode == Mode::e2e && options.consumer_threads == 0;
        if (shared && options.threads > static_cast<int>(result.cluster.leaders.size())) {
            return absl::InvalidArgumentError(
                "--consumer-threads 0 needs no more --threads than partitions");
        }
        const int threads = options.mode == Mode::consume ? options.threads
                            : shared                      ? options.threads
                                                          : options.consumer_threads;
        std::vector<WorkerPlan> consumers = plan_workers(result.cluster, threads, 1, false, false);
        result.consumer_connections = spread(consumers, 0, 0, nullptr);
        for (size_t t = 0; t < consumers.size(); ++t) {
            for (ConnectionPlan& connection : consumers[t].connections) {
                for (int32_t p : connection.partitions) {
                    connection.offsets.push_back(offsets[static_cast<size_t>(p)]);
                }
                if (shared) {
                    plans[t].connections.push_back(connection);
                }
            }
            if (!shared) {
                plans.push_back(std::move(consumers[t]));
            }
        }
    }

    RunContext context;
    context.options = &options;
    context.cluster = &result.cluster;
    context.key_space = key_space.has_value() ? &*key_space : nullptr;
    int producers = 0;
    for (const WorkerPlan& plan : plans) {
        for (const ConnectionPlan& connection : plan.connections) {
            producers += connection.producer ? 1 : 0;
        }
    }
    context.producers_running.store(producers);
    const auto workers = static_cast<int>(plans.size());
    Progress progress(workers);
    // The completion runs once every worker is connected, before any of them goes on.
    std::barrier<std::function<void()>> ready(workers + 1, [&context, &options]() noexcept {
        context.start_ns = steady_now_ns() + 10'000'000;
        context.measure_start_ns = context.start_ns + static_cast<int64_t>(options.warmup_s * 1e9);
        context.end_ns = context.measure_start_ns + static_cast<int64_t>(options.duration_s * 1e9);
    });
    std::vector<WorkerResult> results(plans.size());
    std::vector<std::thread> threads;
    for (int w = 0; w < workers; ++w) {
        threads.emplace_back(worker_main, w, std::cref(plans[static_cast<size_t>(w)]),
                             std::ref(context), std::ref(progress), std::ref(ready),
                             std::ref(results[static_cast<size_t>(w)]));
    }
    ready.arrive_and_wait();
    for (size_t index = 0;; ++index) {
        std::optional<Interval> second = progress.wait_for_second(index);
        if (!second.has_value()) {
            break;
        }
        if (!options.quiet) {
            print_progress(options, context, index, *second);
        }
    }
    for (std::thread& thread : threads) {
        thread.join();
    }
    int64_t last_event_ns = context.measure_start_ns;
    for (WorkerResult& worker : results) {
        result.measured.merge(worker.recorder.measured);
        result.sent += worker.recorder.sent;
        result.acked += worker.recorder.acked;
        result.failed += worker.recorder.failed;
        result.consumed += worker.recorder.consumed;
        last_event_ns = std::max(last_event_ns, worker.recorder.last_event_ns);
        for (std::string& error : worker.errors) {
            result.errors.push_back(std::move(error));
        }
    }
    // A run cut short by --messages measures up to its last event, not the planned end.
    const int64_t measured_end = std::min(context.end_ns, last_event_ns);
    result.measured_s =
        std::max(1e-3, static_cast<double>(measured_end - context.measure_start_ns) / 1e9);
    result.seconds = progress.seconds();
    return result;
}

}  // namespace ringlog::tools::bench
