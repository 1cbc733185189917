// Shards and ShardSet: shard_for's golden values and spread; with 2 and 4 shards (more shards
// than this machine's cores is fine), submit_to from every shard to every other runs fn on the
// target and resumes the caller on its own thread; thousands of concurrent submissions through
// small queues (the overflow path); Task-returning and nested calls; a unique_ptr moved there
// and back; stop() with work in flight finishes it. Results are collected in atomics and
// checked after stop() joined the threads; nothing sleeps or is timed.
#include <algorithm>
#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/shard_set.h"

namespace ringlog::core {
namespace {

TEST(ShardFor, GoldenValues) {
    // The formula in core/shard.h; clients that route by shard compute the same.
    EXPECT_EQ(shard_for("orders", 0, 4), ShardId(1));
    EXPECT_EQ(shard_for("orders", 1, 4), ShardId(2));
    EXPECT_EQ(shard_for("orders", 2, 4), ShardId(3));
    EXPECT_EQ(shard_for("orders", 7, 3), ShardId(2));
    EXPECT_EQ(shard_for("", 0, 16), ShardId(6));
    EXPECT_EQ(shard_for("clicks", 1000, 7), ShardId(4));
}

// Every shard owns floor(n / S) or ceil(n / S) of a topic's n partitions, for any n: the load
// of a topic's partitions is spread as evenly as their count allows.
TEST(ShardFor, ATopicsPartitionsAreSplitAsEvenlyAsTheirCountAllows) {
    for (const std::string topic : {"t", "orders", "__consumer_offsets", "", "x-y.z"}) {
        for (const int shard_count : {1, 2, 3, 4, 7, 8}) {
            for (int32_t partitions = 1; partitions <= 40; ++partitions) {
                std::vector<int> owned(static_cast<size_t>(shard_count));
                for (int32_t partition = 0; partition < partitions; ++partition) {
                    ++owned[shard_for(topic, partition, shard_count).value()];
                }
                const auto [low, high] = std::minmax_element(owned.begin(), owned.end());
                EXPECT_LE(*high - *low, 1)
                    << topic << ", " << partitions << " partitions on " << shard_count << " shards";
            }
        }
    }
}

// The first partitions of different topics do not all land on the same shard.
TEST(ShardFor, TopicsStartOnDifferentShards) {
    std::set<uint32_t> starts;
    for (int i = 0; i < 64; ++i) {
        starts.insert(shard_for("topic-" + std::to_string(i), 0, 4).value());
    }
    EXPECT_EQ(starts.size(), 4u);
}

TEST(ShardFor, OneShardOwnsEverything) {
    for (int32_t partition = 0; partition < 100; ++partition) {
        EXPECT_EQ(shard_for("t", partition, 1), ShardId(0));
    }
}

TEST(ShardFor, SpreadsThePartitionsOfATopic) {
    for (const int shard_count : {2, 3, 4, 8}) {
        constexpr int partitions = 1200;
        std::vector<int> owned(static_cast<size_t>(shard_count));
        for (int32_t partition = 0; partition < partitions; ++partition) {
            const ShardId shard = shard_for("events", partition, shard_count);
            ASSERT_LT(shard.value(), static_cast<uint32_t>(shard_count));
            ++owned[shard.value()];
        }
        const int fair = partitions / shard_count;
        for (const int count : owned) {
            EXPECT_GT(count, fair * 3 / 4) << shard_count << " shards";
            EXPECT_LT(count, fair * 5 / 4) << shard_count << " shards";
        }
    }
}

// What a shard's task found out, checked on the test thread after stop().
struct Tally {
    std::atomic<int> calls{0};
    std::atomic<int> wrong_target{0};
    std::atomic<int> wrong_home{0};
    std::atomic<int> wrong_result{0};
};

struct Where {
    ShardId shard;
    std::thread::id thread;
};

ShardId other_shard(ShardId here, int count, int k) {
    // The k-th shard other than `here`, cycling.
    return ShardId(static_cast<uint32_t>((here.value() + 1 + k % (count - 1)) % count));
}

io::Task<void> call_every_other_shard(Shard& shard, Tally& tally) {
    const std::thread::id home = std::this_thread::get_id();
    for (int i = 0; i < shard.set().count(); ++i) {
        const ShardId target(static_cast<uint32_t>(i));
        if (target == shard.id()) {
            continue;
        }
        const Where where = co_await shard.set().submit_to(target, [] {
            return Where{Shard::current().id(), std::this_thread::get_id()};
        });
        tally.calls.fetch_add(1);
        tally.wrong_target.fetch_add(where.shard != target || where.thread == home ? 1 : 0);
        tally.wrong_home.fetch_add(
            Shard::current().id() != shard.id() || std::this_thread::get_id() != home ? 1 : 0);
    }
}

io::Task<void> double_on(Shard& shard, ShardId target, int value, Tally& tally) {
    const int result = co_await shard.set().submit_to(target, [value] { return value * 2; });
    tally.calls.fetch_add(1);
    tally.wrong_result.fetch_add(result != value * 2 ? 1 : 0);
    tally.wrong_home.fetch_add(&Shard::current() != &shard ? 1 : 0);
}

io::Task<void> spawn_many(Shard& shard, int per_shard, Tally& tally) {
    for (int i = 0; i < per_shard; ++i) {
        shard.spawn(double_on(shard, other_shard(shard.id(), shard.set().count(), i), i, tally));
    }
    co_return;
}

// Runs on the target: suspends there, then asks the caller's shard (or another) for a part.
io::Task<int> yield_then_ask(ShardId ask, int value) {
    Shard& here = Shard::current();
    co_await here.reactor().yield();
    const int part = co_await here.set().submit_to(ask, [value] { return value + 1; });
    co_return part * 10;
}

io::Task<void> nested_calls(Shard& shard, Tally& tally) {
    const int count = shard.set().count();
    for (int k = 0; k < 50; ++k) {
        const ShardId target = other_shard(shard.id(), count, k);
        const ShardId ask = other_shard(target, count, k + 1);  // the caller itself, with 2
        const int result =
            co_await shard.set().submit_to(target, [ask, k] { return yield_then_ask(ask, k); });
        tally.calls.fetch_add(1);
        tally.wrong_result.fetch_add(result != (k + 1) * 10 ? 1 : 0);
    }
}

io::Task<void> pass_ownership(Shard& shard, Tally& tally) {
    const ShardId target = other_shard(shard.id(), shard.set().count(), 0);
    auto owned = std::make_unique<int>(41);
    int* const address = owned.get();
    // The lambda is a named local, not a temporary inside the co_await: g++ 12 destroys
    // temporaries with move-only captures in a co_await expression twice.
    auto bump = [owned = std::move(owned)]() mutable {
        ++*owned;
        return std::move(owned);
    };
    std::unique_ptr<int> back = co_await shard.set().submit_to(target, std::move(bump));
    tally.calls.fetch_add(1);
    tally.wrong_result.fetch_add(back.get() != address || *back != 42 ? 1 : 0);
    co_await shard.set().submit_to(target, [] {});  // void works too
}

io::Task<void> record_thread(Shard& shard, std::vector<std::thread::id>& threads) {
    threads[shard.id().value()] = std::this_thread::get_id();
    co_return;
}

class ShardSetTest : public ::testing::TestWithParam<int> {
protected:
    int shard_count() const { return GetParam(); }

    std::unique_ptr<ShardSet> started(size_t queue_capacity = 1024) {
        auto set = std::make_unique<ShardSet>(ShardSetOptions{.shard_count = shard_count(),
                                                              .queue_capacity = queue_capacity,
                                                              .pin = true,
                                                              .reactor = {}});
        const absl::Status status = set->start();
        RL_ASSERT(status.ok(), "%s", status.ToString());
        return set;
    }

    void expect_clean(const Tally& tally, int calls) {
        EXPECT_EQ(tally.calls.load(), calls);
        EXPECT_EQ(tally.wrong_target.load(), 0);
        EXPECT_EQ(tally.wrong_home.load(), 0);
        EXPECT_EQ(tally.wrong_result.load(), 0);
    }
};

TEST_P(ShardSetTest, StartsAndStopsWithNothingToDo) {
    auto set = started();
    EXPECT_EQ(set->count(), shard_count());
    set->stop();
}

TEST_P(ShardSetTest, EveryShardReachesEveryOtherAndResumesAtHome) {
    auto set = started();
    Tally tally;
    set->run_on_all([&tally](Shard& shard) { return call_every_other_shard(shard, tally); });
    set->stop();
    expect_clean(tally, shard_count() * (shard_count() - 1));
}

TEST_P(ShardSetTest, ThousandsOfConcurrentSubmissionsThroughSmallQueues) {
    constexpr int per_shard = 3000;
    auto set = started(/*queue_capacity=*/16);
    Tally tally;
    set->run_on_all([&tally](Shard& shard) { return spawn_many(shard, per_shard, tally); });
    // Stop at once: every submission is still in flight, and all must complete.
    set->stop();
    expect_clean(tally, shard_count() * per_shard);
}

TEST_P(ShardSetTest, TaskFunctionsRunOnTheTargetAndMayCallBack) {
    auto set = started();
    Tally tally;
    set->run_on_all([&tally](Shard& shard) { return nested_calls(shard, tally); });
    set->stop();
    expect_clean(tally, shard_count() * 50);
}

TEST_P(ShardSetTest, MovesAUniquePtrThereAndBack) {
    auto set = started();
    Tally tally;
    set->run_on_all([&tally](Shard& shard) { return pass_ownership(shard, tally); });
    set->stop();
    expect_clean(tally, shard_count());
}

TEST_P(ShardSetTest, EachShardHasItsOwnThread) {
    auto set = started();
    std::vector<std::thread::id> threads(static_cast<size_t>(shard_count()));
    set->run_on_all([&threads](Shard& shard) { return record_thread(shard, threads); });
    set->stop();
    std::set<std::thread::id> distinct(threads.begin(), threads.end());
    distinct.insert(std::this_thread::get_id());
    EXPECT_EQ(distinct.size(), threads.size() + 1);
}

INSTANTIATE_TEST_SUITE_P(Shards, ShardSetTest, ::testing::Values(2, 4), [](const auto& param_info) {
    return std::to_string(param_info.param) + "Shards";
});

}  // namespace
}  // namespace ringlog::core
