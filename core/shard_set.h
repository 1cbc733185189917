// ShardSet: starts N shards (one pinned thread and one reactor each), lets a coroutine on one
// shard run a function on another and await its result, and stops them all cleanly. Between
// every ordered pair of shards there is one SPSC queue; a shard's doorbell wakes it when a
// message arrives while it sleeps. It is the plumbing, not a scheduler: which shard does what
// (partitions, connections) is decided above it, with shard_for().
#pragma once

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <functional>
#include <latch>
#include <memory>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <absl/status/status.h>

#include "core/shard.h"
#include "io/reactor.h"
#include "io/spsc_queue.h"
#include "io/task.h"

namespace ringlog::core {

struct ShardSetOptions {
    int shard_count = 1;
    // Slots per SPSC queue (a power of two). A full queue is not an error: the sender keeps
    // the message in order and retries on its next loop turn.
    size_t queue_capacity = 1024;
    // Pin shard i to CPU i % nproc. If the kernel refuses, the shard runs unpinned (a note
    // on stderr).
    bool pin = true;
    // Each shard's event loop (its busy-polling back-off, for the datagram transport).
    io::ReactorOptions reactor;
};

namespace detail {

// Call<Fn>'s type-independent half. `run` executes on the target shard and ends by sending
// the envelope back (ShardSet::reply); the caller's shard then resumes `caller`.
struct CallBase {
    using Run = void (*)(CallBase* call);

    Run run;
    ShardSet* set;
    ShardId source;
    ShardId target;
    std::coroutine_handle<> caller;
};

template <typename T>
struct Unwrap {
    using type = T;
    static constexpr bool is_task = false;
};

template <typename T>
struct Unwrap<io::Task<T>> {
    using type = T;
    static constexpr bool is_task = true;
};

// What submit_to(target, fn) returns a Task of: fn's result, or the result of the Task fn
// returns.
template <typename Fn>
using SubmitResult = typename Unwrap<std::invoke_result_t<Fn&>>::type;

void send_request(CallBase& call);
void send_reply(CallBase& call);

template <typename Fn>
struct Call : CallBase {
    using Result = SubmitResult<Fn>;
    using Stored = std::conditional_t<std::is_void_v<Result>, std::monostate, Result>;
    static constexpr bool is_task = Unwrap<std::invoke_result_t<Fn&>>::is_task;

    explicit Call(Fn function)
        : CallBase{&run_here, nullptr, {}, {}, {}}, fn(std::move(function)) {}

    // On the target shard.
    static void run_here(CallBase* base) {
        auto* call = static_cast<Call*>(base);
        if constexpr (is_task) {
            run_task(call);
        } else {
            if constexpr (std::is_void_v<Result>) {
                call->fn();
                call->result.emplace();
            } else {
                call->result.emplace(call->fn());
            }
            send_reply(*call);
        }
    }

    // The frame is the target's; the call (and fn, with its captures) stays in the caller's
    // frame, which waits, so it outlives the task.
    static io::detail::Detached run_task(Call* call) {
        if constexpr (std::is_void_v<Result>) {
            co_await call->fn();
            call->result.emplace();
        } else {
            call->result.emplace(co_await call->fn());
        }
        send_reply(*call);
    }

    Fn fn;
    std::optional<Stored> result;
};

struct SubmitAwaiter {
    CallBase& call;

    bool await_ready() const noexcept { return false; }

    void await_suspend(std::coroutine_handle<> handle) {
        call.caller = handle;
        send_request(call);
    }

    void await_resume() const noexcept {}
};

}  // namespace detail

// Contract:
// - start() from a thread that is not a shard; it returns once every shard's reactor exists.
// - run_on() / run_on_all() from outside the shards, between start() and stop(): the task
//   runs on the shard's loop and stop() waits for it.
// - submit_to() from a coroutine running on one of this set's shards.
// - stop() from outside the shards: no new run_on; each shard keeps serving until no task
//   started through run_on/Shard::spawn is running and no submission is unanswered anywhere,
//   then leaves its loop; the threads are joined. A task that never ends blocks stop(): tasks
//   watch stopping() and finish. The destructor stops a running set.
// - Shards talk only through the queues; a value moved into fn or returned by it changes
//   owner with it (see SpscQueue for buffers).
class ShardSet {
public:
    explicit ShardSet(ShardSetOptions options);
    ~ShardSet();

    ShardSet(const ShardSet&) = delete;
    ShardSet& operator=(const ShardSet&) = delete;

    [[nodiscard]] absl::Status start();

    void stop();

    // Any thread: ask the shards to stop once the work is done, without waiting.
    void request_stop();

    bool stopping() const { return stopping_.load(); }

    int count() const { return static_cast<int>(shards_.size()); }

    Shard& shard(ShardId id) { return *shards_[id.value()]; }

    // Runs fn(shard) as a task on shard `target`.
    void run_on(ShardId target, std::function<io::Task<void>(Shard&)> fn);

    void run_on_all(const std::function<io::Task<void>(Shard&)>& fn);

    // Runs fn() on shard `target` and resumes the caller on its own shard with the result.
    // fn may return a value, void, or an io::Task of either (awaited on the target). fn is
    // moved into the caller's frame, run there by the target thread, and destroyed by the
    // caller after the answer is back; move-only captures and results are fine. Calling one's
    // own shard runs fn inline.
    template <typename Fn>
    io::Task<detail::SubmitResult<Fn>> submit_to(ShardId target, Fn fn);

private:
    friend class Shard;
    friend void detail::send_request(detail::CallBase& call);
    friend void detail::send_reply(detail::CallBase& call);

    using Queue = io::SpscQueue<detail::Envelope>;

    Queue& queue(ShardId source, ShardId target) {
        return *queues_[source.value() * shards_.size() + target.value()];
    }

    void thread_main(Shard& shard, absl::Status& started, std::latch& ready);
    io::Task<void> serve(Shard& shard);
    static io::detail::Detached run_counted(Shard& shard, io::Task<void> task);
    static io::detail::Detached run_inbox(Shard& shard, std::function<io::Task<void>(Shard&)> fn);
    void send(ShardId source, ShardId target, detail::Envelope envelope);
    void take_inbox(Shard& shard);
    bool drain(Shard& shard);
    bool flush_overflow(Shard& shard);
    bool inbound_visible(Shard& shard);

    bool quiescent() const { return stopping_.load() && work_.load() == 0; }

    void work_started() { work_.fetch_add(1); }

    void work_finished();
    void ring_all();

    ShardSetOptions options_;
    std::vector<std::unique_ptr<Shard>> shards_;
    // queues_[source * count + target]; the diagonal is empty.
    std::vector<std::unique_ptr<Queue>> queues_;
    std::vector<std::thread> threads_;
    bool started_ = false;
    std::atomic<bool> stopping_{false};
    // Tasks started by run_on/spawn plus submissions not yet answered, over all shards. The
    // set is quiescent when it is zero after stop was requested: only existing work creates
    // new work. (One shared counter: an atomic add per submission, on top of the queue
    // indexes' own cache-line transfers.)
    std::atomic<int64_t> work_{0};
};

template <typename Fn>
io::Task<detail::SubmitResult<Fn>> ShardSet::submit_to(ShardId target, Fn fn) {
    using Call = detail::Call<Fn>;
    Shard& here = Shard::current();
    RL_ASSERT(&here.set() == this, "submit_to from another set's shard");
    RL_ASSERT(target.value() < shards_.size(), "shard %d of %d", int(target.value()), count());
    if (target == here.id()) {
        if constexpr (Call::is_task) {
            co_return co_await fn();
        } else {
            co_return fn();
        }
    }
    Call call(std::move(fn));
    call.set = this;
    call.source = here.id();
    call.target = target;
    work_started();
    co_await detail::SubmitAwaiter{call};
    if constexpr (!std::is_void_v<detail::SubmitResult<Fn>>) {
        RL_ASSERT(call.result.has_value());
        co_return std::move(*call.result);
    }
}

}  // namespace ringlog::core
