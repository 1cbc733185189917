// The loop, ring set-up with its fallbacks, and fixed-buffer registration. See reactor.h for
// the contract.
#include "io/reactor.h"

#include <sys/prctl.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>

#include <absl/strings/str_cat.h>

#include "io/base/errno_status.h"

namespace ringlog::io {

thread_local Reactor* Reactor::current_ = nullptr;

namespace {

// The flags we want, then what older kernels accept. SINGLE_ISSUER + DEFER_TASKRUN (6.1) runs
// completion work only when we ask for events, in our own thread, so a turn's completions
// arrive together and nothing interrupts a running coroutine. COOP_TASKRUN (5.19) is the
// weaker form without the deferral. SUBMIT_ALL (5.18) keeps submitting past an SQE that fails
// its preparation instead of leaving the rest of the batch in the queue.
constexpr unsigned setup_attempts[] = {
    IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SINGLE_ISSUER
        | IORING_SETUP_DEFER_TASKRUN,
    IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN,
    0,
};

// Errors from io_uring_enter(2) that mean "try again on the next turn" rather than a bug.
bool transient(int result) {
    return result == -EINTR || result == -EAGAIN || result == -EBUSY;
}

}  // namespace

Reactor::Reactor(ReactorOptions options)
    : options_(options), owner_(std::this_thread::get_id()), poll_wait_(options.poll_wait_min) {}

absl::StatusOr<std::unique_ptr<Reactor>> Reactor::create(ReactorOptions options) {
    RL_ASSERT(options.entries > 0);
    // The kernel may fire a normal thread's timers up to its timer slack late, 50 us by
    // default: a 16 us back-off wait (a DPDK queue cannot end it early) would last 66 us,
    // and an open-loop sender's due time would slip as much. The loop's waits are bounded
    // already, so ask for exact ones on the thread that owns the loop.
    (void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    std::unique_ptr<Reactor> reactor(new Reactor(options));
    int result = -EINVAL;
    for (const unsigned flags : setup_attempts) {
        io_uring_params params{};
        params.flags = flags;
        result = io_uring_queue_init_params(options.entries, &reactor->ring_, &params);
        if (result == 0) {
            reactor->setup_flags_ = flags;
            break;
        }
        if (result != -EINVAL) {
            break;  // not a flag the kernel is too old for: no point trying fewer flags
        }
    }
    if (result < 0) {
        return errno_to_status(-result,
                               absl::StrCat("create an io_uring of ", options.entries, " entries"));
    }
    reactor->ring_ready_ = true;

    if (io_uring_probe* probe = io_uring_get_probe_ring(&reactor->ring_); probe != nullptr) {
        for (int opcode = 0; opcode < static_cast<int>(reactor->supported_ops_.size()); ++opcode) {
            if (io_uring_opcode_supported(probe, opcode)) {
                reactor->supported_ops_.set(static_cast<size_t>(opcode));
            }
        }
        io_uring_free_probe(probe);
    }

    // Room for a full ring's worth of completions plus as many yields, before any growth.
    reactor->ready_.reserve(options.entries * 4);
    reactor->running_.reserve(options.entries * 4);
    if (current_ == nullptr) {
        current_ = reactor.get();
    }
    return reactor;
}

Reactor::~Reactor() {
    if (current_ == this) {
        current_ = nullptr;
    }
    if (ring_ready_) {
        if (fixed_table_registered_) {
            (void)io_uring_unregister_buffers(&ring_);
        }
        io_uring_queue_exit(&ring_);
    }
}

void Reactor::run_until_done(std::coroutine_handle<> task) {
    RL_ASSERT(!looping_, "nested block_on: a coroutine on the loop must co_await instead");
    RL_ASSERT(std::this_thread::get_id() == owner_, "block_on from a foreign thread");
    looping_ = true;
    Reactor* const previous = std::exchange(current_, this);
    schedule(task);
    for (;;) {
        ++stats_.turns;
        reap_completions();
        run_ready();
        if (task.done()) {
            break;
        }
        if (pollers_.empty()) {
            if (ready_.empty() && options_.idle_spin.count() > 0) {
                spin_for_completions();
                if (io_uring_cq_ready(&ring_) > 0) {
                    continue;
                }
            }
            enter(/*wait=*/ready_.empty());
        } else if (run_pollers() || !ready_.empty()) {
            idle_turns_ = 0;
            poll_wait_ = options_.poll_wait_min;
            enter(/*wait=*/false);
        } else {
            idle_turn();
        }
    }
    // Hand the kernel what the last turn queued, so background I/O is not left sitting in the
    // submission queue until the next block_on.
    if (io_uring_sq_ready(&ring_) > 0) {
        ++stats_.enters;
        const int result = io_uring_submit(&ring_);
        RL_ASSERT(result >= 0 || transient(result), "io_uring_submit: %d", result);
    }
    current_ = previous;
    looping_ = false;
}

io_uring_sqe* Reactor::next_sqe() {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    while (sqe == nullptr) {
        // The submission queue is full: submit what is queued to make room. -EBUSY means the
        // completion queue overflowed; reaping only schedules coroutines, so it is safe here.
        ++stats_.enters;
        const int result = compat::submit_and_get_events(&ring_);
        RL_ASSERT(result >= 0 || transient(result), "io_uring_enter: %d", result);
        if (result == -EBUSY) {
            reap_completions();
        }
        sqe = io_uring_get_sqe(&ring_);
    }
    return sqe;
}

void Reactor::reap_completions() {
    unsigned head;
    unsigned count = 0;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(&ring_, head, cqe) {
        ++count;
        // A multishot operation posts CQEs with F_MORE while it stays armed; only its last
        // CQE ends it.
        if ((cqe->flags & IORING_CQE_F_MORE) == 0) {
            RL_ASSERT(inflight_ > 0, "a completion for an operation we did not submit");
            --inflight_;
        }
        auto* completion = static_cast<Completion*>(io_uring_cqe_get_data(cqe));
        if (completion != nullptr) {
            completion->callback_(completion, cqe->res, cqe->flags);
        }
    }
    io_uring_cq_advance(&ring_, count);
    stats_.completions += count;
}

void Reactor::run_ready() {
    // running_ is empty here; whatever the coroutines schedule goes to ready_, the next turn.
    running_.swap(ready_);
    for (const std::coroutine_handle<> handle : running_) {
        handle.resume();
    }
    running_.clear();
}

void Reactor::enter(bool wait) {
    int result;
    if (wait) {
        // Nothing ready: only a completion can make progress, so block in the kernel for one.
        // Nothing in flight either means nothing ever will: the task waits on a Notify or a
        // TaskGroup that no one can signal. Stop loudly rather than hang.
        RL_ASSERT(inflight_ > 0, "block_on would wait forever: nothing is ready or in flight");
        result = io_uring_submit_and_wait(&ring_, 1);
    } else {
        if (io_uring_sq_ready(&ring_) == 0 && inflight_ == 0) {
            return;  // nothing to submit and nothing to collect: skip the syscall
        }
        // Coroutines are waiting to run: submit and collect without blocking. With
        // DEFER_TASKRUN this call is also what turns finished I/O into CQEs.
        result = compat::submit_and_get_events(&ring_);
    }
    ++stats_.enters;
    RL_ASSERT(result >= 0 || transient(result), "io_uring_enter: %d", result);
}

void Reactor::add_poller(Poller& poller) {
    RL_DASSERT(std::find(pollers_.begin(), pollers_.end(), &poller) == pollers_.end());
    pollers_.push_back(&poller);
    idle_turns_ = 0;
    poll_wait_ = options_.poll_wait_min;
}

void Reactor::remove_poller(Poller& poller) {
    const auto found = std::find(pollers_.begin(), pollers_.end(), &poller);
    RL_ASSERT(found != pollers_.end(), "remove_poller: not registered");
    pollers_.erase(found);
}

bool Reactor::run_pollers() {
    bool busy = false;
    // By index: a poller may remove itself (or add another) while it runs.
    for (size_t index = 0; index < pollers_.size(); ++index) {
        ++stats_.polls;
        if (pollers_[index]->poll()) {
            ++stats_.polls_busy;
            busy = true;
        }
    }
    return busy;
}

// A turn in which nothing ran and no poller found work. Spinning, only SQEs queued (or every
// 16th turn, to collect completions: with DEFER_TASKRUN they are posted only when we enter)
// are worth a system call; after poll_spin_turns such turns, wait in the kernel for a
// completion or the back-off time, whichever comes first.
void Reactor::idle_turn() {
    if (idle_turns_ < options_.poll_spin_turns) {
        ++idle_turns_;
        if (io_uring_sq_ready(&ring_) > 0 || idle_turns_ % 16 == 0) {
            enter(/*wait=*/false);
        }
        return;
    }
    for (size_t index = 0; index < pollers_.size(); ++index) {
        pollers_[index]->before_wait();
    }
    __kernel_timespec timeout{};
    timeout.tv_sec = poll_wait_.count() / 1'000'000'000;
    timeout.tv_nsec = poll_wait_.count() % 1'000'000'000;
    io_uring_cqe* cqe = nullptr;
    ++stats_.enters;
    ++stats_.poll_waits;
    const int result = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &timeout, nullptr);
    RL_ASSERT(result >= 0 || result == -ETIME || transient(result), "io_uring_enter: %d", result);
    poll_wait_ = std::min(poll_wait_ * 2, options_.poll_wait_max);
}

// Nothing is ready: collect completions without blocking until one is posted or idle_spin
// has passed. With DEFER_TASKRUN the kernel posts CQEs only inside io_uring_enter(2), so each
// look is a system call (about a microsecond), which also submits what the last turn queued.
void Reactor::spin_for_completions() {
    ++stats_.spins;
    if (inflight_ == 0) {
        return;  // nothing can complete; enter() says so loudly
    }
    const auto deadline = std::chrono::steady_clock::now() + options_.idle_spin;
    do {
        enter(/*wait=*/false);
        if (io_uring_cq_ready(&ring_) > 0) {
            ++stats_.spins_found;
            return;
        }
    } while (std::chrono::steady_clock::now() < deadline);
}

absl::Status Reactor::register_buffers(BufferPool& pool) {
    RL_ASSERT(pool.count() > 0);
    RL_ASSERT(pool.buffers()[0]->fixed_index() < 0, "pool registered twice");
    if (!fixed_table_registered_) {
        // A sparse table (kernel 5.13) lets pools come and go over the reactor's life without
        // re-registering the ones already in use.
        const int result = io_uring_register_buffers_sparse(&ring_, options_.fixed_buffer_slots);
        if (result < 0) {
            return errno_to_status(-result,
                                   absl::StrCat("register a table of ", options_.fixed_buffer_slots,
                                                " fixed buffers"));
        }
        fixed_table_registered_ = true;
    }
    const size_t count = pool.count();
    if (count > options_.fixed_buffer_slots - fixed_slots_used_) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "register ", count, " fixed buffers: ", options_.fixed_buffer_slots - fixed_slots_used_,
            " of ", options_.fixed_buffer_slots, " slots left"));
    }
    std::vector<iovec> iovecs;
    iovecs.reserve(count);
    for (Buffer* buffer : pool.buffers()) {
        iovecs.push_back(iovec{.iov_base = buffer->data(), .iov_len = buffer->size()});
    }
    const int result = io_uring_register_buffers_update_tag(
        &ring_, fixed_slots_used_, iovecs.data(), nullptr, static_cast<unsigned>(count));
    const std::string context =
        absl::StrCat("register ", count, " fixed buffers of ", pool.buffer_bytes(), " bytes");
    if (result < 0) {
        return errno_to_status(-result, context);
    }
    if (static_cast<size_t>(result) != count) {
        return absl::InternalError(absl::StrCat(context, ": only ", result, " registered"));
    }
    pool.set_fixed_indexes(static_cast<int>(fixed_slots_used_));
    fixed_slots_used_ += static_cast<unsigned>(count);
    return absl::OkStatus();
}

namespace detail {

SleepAwaiter::SleepAwaiter(Reactor& reactor, std::chrono::nanoseconds duration)
    : Completion(&on_complete), reactor_(reactor) {
    const int64_t nanoseconds = std::max<int64_t>(0, duration.count());
    timespec_.tv_sec = nanoseconds / 1'000'000'000;
    timespec_.tv_nsec = nanoseconds % 1'000'000'000;
}

void SleepAwaiter::await_suspend(std::coroutine_handle<> handle) {
    handle_ = handle;
    reactor_.prepare(this, [this](io_uring_sqe* sqe) {
        // count 0: a pure timer, not "wait for n completions".
        io_uring_prep_timeout(sqe, &timespec_, 0, 0);
    });
}

void SleepAwaiter::on_complete(Completion* self, int32_t result, uint32_t flags) {
    (void)result;  // -ETIME when it fires; -ECANCELED only if the ring goes away
    (void)flags;
    auto* sleep = static_cast<SleepAwaiter*>(self);
    sleep->reactor_.schedule(sleep->handle_);
}

}  // namespace detail

}  // namespace ringlog::io
