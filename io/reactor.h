// Reactor: the per-thread event loop. It owns one io_uring, a queue of coroutines ready to run,
// and the loop that drives them; everything asynchronous in a shard (disk, network, timers)
// is an SQE on this ring whose completion resumes a coroutine. It is not thread-safe and never
// will be: one reactor per thread, created, used and destroyed there.
//
// One loop turn (STYLE.md, "batch at every level"): drain every completion the kernel posted,
// run every coroutine that became ready, then hand all SQEs queued meanwhile to the kernel in
// one io_uring_enter(2), waiting in that same call when nothing is ready.
#pragma once

#include <linux/time_types.h>

#include <bitset>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include "io/base/assert.h"
#include "io/base/limits.h"
#include "io/buffer.h"
#include "io/liburing_compat.h"
#include "io/task.h"

namespace ringlog::io {

struct ReactorOptions {
    // Submission queue depth; the completion queue gets twice as many entries.
    unsigned entries = limits::ring_entries;
    // Slots in the sparse fixed-buffer table, shared by every pool registered over the
    // reactor's life (one slot per pool buffer).
    unsigned fixed_buffer_slots = 1024;
    // Busy-polling (add_poller): after this many turns in a row in which no poller found work
    // and no coroutine was ready, the loop starts to wait in the kernel, first for
    // poll_wait_min, doubling up to poll_wait_max while it stays idle. A turn costs about a
    // microsecond, so the defaults spin for ~0.1-0.5 ms before the first wait, and an idle
    // broker wakes 1000 times a second per shard: cheap, yet a request after a quiet spell
    // waits at most a millisecond.
    unsigned poll_spin_turns = 256;
    std::chrono::nanoseconds poll_wait_min = std::chrono::microseconds(16);
    std::chrono::nanoseconds poll_wait_max = std::chrono::milliseconds(1);
    // Without pollers: when nothing is ready, look for completions without sleeping for this
    // long before blocking in the kernel (0: block at once). A thread asleep in
    // io_uring_enter(2) is woken through the hypervisor, which costs about 40 of the 55 us of
    // a loopback round trip on this project's VMs (LIMITS.md N5); a reply that comes within
    // the spin skips that. The price is the CPU burnt spinning, which a machine with fewer
    // cores than busy threads cannot spare: measure before turning it on.
    std::chrono::nanoseconds idle_spin = std::chrono::nanoseconds(0);
};

// Something the loop calls once per turn to look for work of its own that no completion
// announces: a DPDK receive queue, a non-blocking socket. poll() returns whether it found any;
// it may schedule coroutines but must not block or resume one inline. Turns whose pollers find
// nothing back off as ReactorOptions describes.
class Poller {
public:
    virtual bool poll() = 0;

    // Called before each back-off wait in the kernel: a poller whose work can be announced by
    // a completion after all (a socket, through IORING_OP_POLL_ADD) arms it here, so the
    // wait ends when work arrives rather than when the timer does.
    virtual void before_wait() {}

protected:
    ~Poller() = default;
};

// Counters for tests and metrics; they only grow.
struct ReactorStats {
    uint64_t turns = 0;        // loop iterations
    uint64_t enters = 0;       // io_uring_enter(2) calls (submit, get events, wait)
    uint64_t sqes = 0;         // SQEs queued
    uint64_t completions = 0;  // CQEs reaped
    uint64_t polls = 0;        // Poller::poll() calls
    uint64_t polls_busy = 0;   // of those, polls that found work
    uint64_t poll_waits = 0;   // idle back-off waits in the kernel (each bounded in time)
    uint64_t spins = 0;        // idle spins (ReactorOptions::idle_spin) before a blocking wait
    uint64_t spins_found = 0;  // of those, spins that found a completion and did not block
};

// What an SQE's user_data points at. The reactor calls the callback once per CQE, while it
// drains the completion queue; the callback must only record the result and schedule() a
// coroutine, never resume one inline (the drain is not reentrant). It lives inside the
// awaiting coroutine's frame, so an operation costs no allocation, and it must stay there until
// its last CQE (the one without IORING_CQE_F_MORE) has been reaped.
class Completion {
public:
    using Callback = void (*)(Completion* self, int32_t result, uint32_t flags);

    explicit Completion(Callback callback) : callback_(callback) {}

private:
    friend class Reactor;

    Callback callback_;
};

// A CQE's result and flags, for operations whose flags matter (buffer selection, multishot).
struct CqeResult {
    int32_t result;
    uint32_t flags;
};

class Reactor;
class ProvidedBufferRing;

namespace detail {

// The awaitable behind Reactor::op(): fills one SQE when the coroutine suspends and resumes it
// with cqe->res (or the whole CqeResult) on the loop turn after the completion.
template <typename Prep, bool with_flags>
class OpAwaiter : public Completion {
public:
    OpAwaiter(Reactor& reactor, Prep prep)
        : Completion(&on_complete), reactor_(reactor), prep_(std::move(prep)) {}

    bool await_ready() const noexcept { return false; }

    void await_suspend(std::coroutine_handle<> handle);

    auto await_resume() const noexcept {
        if constexpr (with_flags) {
            return CqeResult{result_, flags_};
        } else {
            return result_;
        }
    }

private:
    static void on_complete(Completion* self, int32_t result, uint32_t flags);

    Reactor& reactor_;
    Prep prep_;
    std::coroutine_handle<> handle_;
    int32_t result_ = 0;
    uint32_t flags_ = 0;
};

class SleepAwaiter : public Completion {
public:
    SleepAwaiter(Reactor& reactor, std::chrono::nanoseconds duration);

    bool await_ready() const noexcept { return false; }

    void await_suspend(std::coroutine_handle<> handle);

    void await_resume() const noexcept {}

private:
    static void on_complete(Completion* self, int32_t result, uint32_t flags);

    Reactor& reactor_;
    std::coroutine_handle<> handle_;
    // The kernel reads it when the SQE is submitted, at the end of the loop turn, so it lives
    // here in the frame rather than on the stack of await_suspend.
    __kernel_timespec timespec_;
};

}  // namespace detail

// Contract:
// - create() on the thread that will run it. The first reactor created on a thread becomes
//   that thread's current() until it is destroyed; block_on() makes its reactor current while
//   it runs.
// - op() queues one SQE; the awaiting coroutine resumes on a later loop turn. SQEs reach the
//   kernel once per turn, not one by one, unless the submission queue fills up first.
// - block_on() is the only way the loop runs: main() and tests call it once per top-level
//   task. Coroutines spawned meanwhile keep running on later block_on() calls.
// - Destroying the reactor with operations in flight abandons them: the kernel cancels them
//   and their coroutines are never resumed (their frames leak). Owners stop their background
//   work first (TaskGroup::wait_idle).
class Reactor {
public:
    [[nodiscard]] static absl::StatusOr<std::unique_ptr<Reactor>> create(
        ReactorOptions options = {});

    ~Reactor();

    Reactor(const Reactor&) = delete;
    Reactor& operator=(const Reactor&) = delete;

    // The reactor of the calling thread; asserts that there is one.
    static Reactor& current() {
        RL_ASSERT(current_ != nullptr, "no reactor on this thread");
        return *current_;
    }

    static Reactor* current_or_null() { return current_; }

    // Runs the loop until `task` completes and returns its result. Not reentrant: a coroutine
    // running on the loop must co_await, never block_on (asserted).
    template <typename T>
    T block_on(Task<T> task) {
        RL_ASSERT(task.valid());
        run_until_done(task.handle());
        return task.take_result();
    }

    // Resumes `handle` on the next loop turn, after everything already ready.
    void schedule(std::coroutine_handle<> handle) {
        RL_DASSERT(std::this_thread::get_id() == owner_, "reactor used from a foreign thread");
        ready_.push_back(handle);
    }

    // co_await reactor.yield(): let every other ready coroutine run first.
    [[nodiscard]] auto yield() {
        struct YieldAwaiter {
            Reactor& reactor;

            bool await_ready() const noexcept { return false; }

            void await_suspend(std::coroutine_handle<> handle) { reactor.schedule(handle); }

            void await_resume() const noexcept {}
        };

        return YieldAwaiter{*this};
    }

    // One io_uring operation: `prep` is called with the SQE to fill (any io_uring_prep_*);
    // the co_await yields cqe->res, a negative errno on failure.
    //   int n = co_await reactor.op([&](io_uring_sqe* sqe) {
    //       io_uring_prep_write(sqe, fd, data, size, offset);
    //   });
    // Memory the SQE points at must stay valid until the co_await returns.
    template <typename Prep>
    [[nodiscard]] auto op(Prep prep) {
        return detail::OpAwaiter<Prep, false>(*this, std::move(prep));
    }

    // As op(), yielding the CQE's flags too.
    template <typename Prep>
    [[nodiscard]] auto op_cqe(Prep prep) {
        return detail::OpAwaiter<Prep, true>(*this, std::move(prep));
    }

    // A relative IORING_OP_TIMEOUT on CLOCK_MONOTONIC (the clock behind now()).
    [[nodiscard]] detail::SleepAwaiter sleep_for(std::chrono::nanoseconds duration) {
        return detail::SleepAwaiter(*this, duration);
    }

    std::chrono::steady_clock::time_point now() const { return std::chrono::steady_clock::now(); }

    // Registers every buffer of `pool` as a fixed buffer (one table slot each) and tells the
    // pool its indexes. The pool must outlive the reactor or never be used for I/O again once
    // destroyed: the slots stay taken until the reactor goes (they are not reused).
    // kResourceExhausted when the table (ReactorOptions::fixed_buffer_slots) or the locked-
    // memory limit is exhausted.
    [[nodiscard]] absl::Status register_buffers(BufferPool& pool);

    // Whether the ring got IORING_SETUP_DEFER_TASKRUN (and SINGLE_ISSUER); older kernels fall
    // back to a plain ring.
    bool defer_taskrun() const { return (setup_flags_ & IORING_SETUP_DEFER_TASKRUN) != 0; }

    unsigned setup_flags() const { return setup_flags_; }

    // Whether the kernel supports `opcode` (an IORING_OP_* value), from io_uring_get_probe.
    bool supports(int opcode) const {
        return opcode >= 0 && opcode < static_cast<int>(supported_ops_.size())
               && supported_ops_.test(static_cast<size_t>(opcode));
    }

    const ReactorStats& stats() const { return stats_; }

    // Busy-polling: `poller` is called once per loop turn from now on, until removed; it must
    // outlive its registration. While any poller is registered, the loop never blocks in the
    // kernel for longer than poll_wait_max, and turns that do no work skip io_uring_enter(2)
    // (except every few turns, to collect completions) until the back-off starts.
    void add_poller(Poller& poller);
    void remove_poller(Poller& poller);

    // Operations in flight: SQEs queued or submitted whose last CQE has not been reaped.
    uint64_t inflight() const { return inflight_; }

    // The low-level half of op(), for awaitables that need more than one SQE per suspension
    // or a callback of their own (Notify::wait_for's timer): takes an SQE (submitting first if
    // the queue is full), lets `prep` fill it, and points its user_data at `completion`.
    // A null completion means nobody wants the CQE (a cancellation, say); it is counted and
    // dropped.
    template <typename Prep>
    void prepare(Completion* completion, Prep&& prep) {
        RL_DASSERT(std::this_thread::get_id() == owner_, "reactor used from a foreign thread");
        io_uring_sqe* sqe = next_sqe();
        prep(sqe);
        io_uring_sqe_set_data(sqe, completion);
        ++inflight_;
        ++stats_.sqes;
    }

private:
    // Registers and unregisters its buffer ring with ring_ (IORING_REGISTER_PBUF_RING).
    friend class ProvidedBufferRing;

    explicit Reactor(ReactorOptions options);

    void run_until_done(std::coroutine_handle<> task);
    io_uring_sqe* next_sqe();
    void reap_completions();
    void run_ready();
    void enter(bool wait);
    bool run_pollers();
    void idle_turn();
    void spin_for_completions();

    static thread_local Reactor* current_;

    ReactorOptions options_;
    io_uring ring_{};
    bool ring_ready_ = false;
    unsigned setup_flags_ = 0;
    std::bitset<256> supported_ops_;
    std::thread::id owner_;

    // ready_ collects what becomes runnable; run_ready() swaps it with running_ so a coroutine
    // scheduled during a turn (yield, notify) runs on the next one. Both keep their capacity,
    // so a steady state allocates nothing.
    std::vector<std::coroutine_handle<>> ready_;
    std::vector<std::coroutine_handle<>> running_;
    uint64_t inflight_ = 0;
    bool looping_ = false;

    std::vector<Poller*> pollers_;
    unsigned idle_turns_ = 0;
    std::chrono::nanoseconds poll_wait_;

    bool fixed_table_registered_ = false;
    unsigned fixed_slots_used_ = 0;

    ReactorStats stats_;
};

namespace detail {

template <typename Prep, bool with_flags>
void OpAwaiter<Prep, with_flags>::await_suspend(std::coroutine_handle<> handle) {
    handle_ = handle;
    reactor_.prepare(this, prep_);
}

template <typename Prep, bool with_flags>
void OpAwaiter<Prep, with_flags>::on_complete(Completion* self, int32_t result, uint32_t flags) {
    auto* op = static_cast<OpAwaiter*>(self);
    op->result_ = result;
    op->flags_ = flags;
    op->reactor_.schedule(op->handle_);
}

}  // namespace detail

}  // namespace ringlog::io
