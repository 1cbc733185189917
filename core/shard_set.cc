// The shard threads, their serve loop (drain the queues, retry what a full queue refused,
// park on the doorbell) and the quiescence that ends it. See shard_set.h for the contract.
#include "core/shard_set.h"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <latch>

namespace ringlog::core {

ShardSet::ShardSet(ShardSetOptions options) : options_(options) {
    RL_ASSERT(options.shard_count > 0);
    const auto count = static_cast<size_t>(options.shard_count);
    for (size_t i = 0; i < count; ++i) {
        auto shard = std::make_unique<Shard>(*this, ShardId(static_cast<uint32_t>(i)));
        shard->overflow_.resize(count);
        shards_.push_back(std::move(shard));
    }
    queues_.resize(count * count);
    for (size_t source = 0; source < count; ++source) {
        for (size_t target = 0; target < count; ++target) {
            if (source != target) {
                queues_[source * count + target] = std::make_unique<Queue>(options.queue_capacity);
            }
        }
    }
}

ShardSet::~ShardSet() {
    stop();
}

absl::Status ShardSet::start() {
    RL_ASSERT(!started_, "ShardSet started twice");
    RL_ASSERT(Shard::current_or_null() == nullptr, "start() from a shard thread");
    for (auto& shard : shards_) {
        auto doorbell = io::Doorbell::create();
        if (!doorbell.ok()) {
            return doorbell.status();
        }
        shard->doorbell_ = *std::move(doorbell);
    }
    started_ = true;
    std::vector<absl::Status> statuses(shards_.size());
    std::latch ready(static_cast<ptrdiff_t>(shards_.size()));
    for (size_t i = 0; i < shards_.size(); ++i) {
        threads_.emplace_back(
            [this, i, &statuses, &ready] { thread_main(*shards_[i], statuses[i], ready); });
    }
    ready.wait();
    for (const absl::Status& status : statuses) {
        if (!status.ok()) {
            stop();  // the shards that did start are idle: they leave at once
            return status;
        }
    }
    return absl::OkStatus();
}

void ShardSet::request_stop() {
    stopping_.store(true);
    ring_all();
}

void ShardSet::stop() {
    if (!started_) {
        return;
    }
    RL_ASSERT(Shard::current_or_null() == nullptr, "stop() from a shard thread would join itself");
    request_stop();
    for (std::thread& thread : threads_) {
        thread.join();
    }
    threads_.clear();
    started_ = false;
}

void ShardSet::run_on(ShardId target, std::function<io::Task<void>(Shard&)> fn) {
    RL_ASSERT(started_ && !stopping(), "run_on outside start() .. stop()");
    Shard& shard = this->shard(target);
    work_started();  // counted now, so a stop() right after waits for it
    {
        std::lock_guard lock(shard.inbox_mutex_);
        shard.inbox_.push_back(std::move(fn));
    }
    shard.inbox_pending_.store(true, std::memory_order_release);
    shard.doorbell_->ring();
}

void ShardSet::run_on_all(const std::function<io::Task<void>(Shard&)>& fn) {
    for (int i = 0; i < count(); ++i) {
        run_on(ShardId(static_cast<uint32_t>(i)), fn);
    }
}

void ShardSet::thread_main(Shard& shard, absl::Status& started, std::latch& ready) {
    if (options_.pin) {
        const long cpu_count = sysconf(_SC_NPROCESSORS_ONLN);
        const long cpu = static_cast<long>(shard.id().value()) % (cpu_count > 0 ? cpu_count : 1);
        cpu_set_t cpus;
        CPU_ZERO(&cpus);
        CPU_SET(static_cast<int>(cpu), &cpus);
        const int error = pthread_setaffinity_np(pthread_self(), sizeof(cpus), &cpus);
        if (error != 0) {
            std::fprintf(stderr, "shard %u: not pinned to cpu %ld (%s), running unpinned\n",
                         shard.id().value(), cpu, std::strerror(error));
        }
    }
    auto reactor = io::Reactor::create(options_.reactor);
    if (!reactor.ok()) {
        started = reactor.status();
        ready.count_down();
        return;
    }
    shard.reactor_ = reactor->get();
    Shard::current_ = &shard;
    ready.count_down();
    (*reactor)->block_on(serve(shard));
    Shard::current_ = nullptr;
    shard.reactor_ = nullptr;
}

io::Task<void> ShardSet::serve(Shard& shard) {
    io::Reactor& reactor = *shard.reactor_;
    for (;;) {
        take_inbox(shard);
        drain(shard);
        const bool backed_up = flush_overflow(shard);
        if (quiescent()) {
            break;
        }
        if (backed_up) {
            // A target's queue is full: let everything else run, then retry. Nothing tells us
            // when the target makes room, so this polls, only while backed up.
            co_await reactor.yield();
            continue;
        }
        shard.doorbell_->prepare_wait();
        if (inbound_visible(shard) || quiescent()) {
            shard.doorbell_->cancel_wait();
            continue;
        }
        co_await shard.doorbell_->wait(reactor);
    }
}

io::detail::Detached ShardSet::run_counted(Shard& shard, io::Task<void> task) {
    co_await std::move(task);
    shard.set().work_finished();
}

io::detail::Detached ShardSet::run_inbox(Shard& shard, std::function<io::Task<void>(Shard&)> fn) {
    // fn lives in this frame until its task ends (its captures may be the task's state).
    co_await fn(shard);
    shard.set().work_finished();
}

void ShardSet::take_inbox(Shard& shard) {
    if (!shard.inbox_pending_.load(std::memory_order_acquire)) {
        return;
    }
    std::vector<std::function<io::Task<void>(Shard&)>> inbox;
    {
        std::lock_guard lock(shard.inbox_mutex_);
        inbox.swap(shard.inbox_);
        shard.inbox_pending_.store(false, std::memory_order_relaxed);
    }
    for (auto& fn : inbox) {
        run_inbox(shard, std::move(fn));
    }
}

bool ShardSet::drain(Shard& shard) {
    size_t count = 0;
    for (auto& source : shards_) {
        if (source.get() == &shard) {
            continue;
        }
        count += queue(source->id(), shard.id()).pop_batch([&](detail::Envelope&& envelope) {
            detail::CallBase& call = *envelope.call;
            if (envelope.reply) {
                // Back home: the caller resumes on the next loop turn.
                shard.reactor_->schedule(call.caller);
                work_finished();
            } else {
                call.run(&call);
            }
        });
    }
    return count > 0;
}

bool ShardSet::flush_overflow(Shard& shard) {
    bool backed_up = false;
    for (size_t target = 0; target < shard.overflow_.size(); ++target) {
        auto& pending = shard.overflow_[target];
        if (pending.empty()) {
            continue;
        }
        const ShardId target_id(static_cast<uint32_t>(target));
        Queue& out = queue(shard.id(), target_id);
        bool pushed = false;
        while (!pending.empty() && out.try_push(detail::Envelope(pending.front()))) {
            pending.pop_front();
            pushed = true;
        }
        if (pushed) {
            shards_[target]->doorbell_->ring();
        }
        backed_up = backed_up || !pending.empty();
    }
    return backed_up;
}

bool ShardSet::inbound_visible(Shard& shard) {
    if (shard.inbox_pending_.load(std::memory_order_acquire)) {
        return true;
    }
    for (auto& source : shards_) {
        if (source.get() != &shard && !queue(source->id(), shard.id()).empty()) {
            return true;
        }
    }
    return false;
}

void ShardSet::send(ShardId source, ShardId target, detail::Envelope envelope) {
    Shard& shard = *shards_[source.value()];
    auto& pending = shard.overflow_[target.value()];
    // Behind earlier refused envelopes, or the target would see them out of order.
    if (pending.empty() && queue(source, target).try_push(detail::Envelope(envelope))) {
        shards_[target.value()]->doorbell_->ring();
        return;
    }
    pending.push_back(envelope);
    // Our own serve loop may be parked: wake it so it retries.
    shard.doorbell_->ring();
}

void ShardSet::work_finished() {
    const int64_t before = work_.fetch_sub(1);
    RL_ASSERT(before > 0);
    if (before == 1 && stopping_.load()) {
        ring_all();
    }
}

void ShardSet::ring_all() {
    for (auto& shard : shards_) {
        if (shard->doorbell_ != nullptr) {
            shard->doorbell_->ring();
        }
    }
}

void Shard::spawn(io::Task<void> task) {
    RL_ASSERT(current_ == this, "Shard::spawn from another thread");
    set_.work_started();
    ShardSet::run_counted(*this, std::move(task));
}

namespace detail {

void send_request(CallBase& call) {
    call.set->send(call.source, call.target, Envelope{&call, false});
}

void send_reply(CallBase& call) {
    RL_DASSERT(Shard::current().id() == call.target);
    call.set->send(call.target, call.source, Envelope{&call, true});
}

}  // namespace detail

}  // namespace ringlog::core
