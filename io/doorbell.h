// Doorbell: how one thread wakes another thread's reactor, which may be asleep in
// io_uring_enter(2). The sleeper keeps a read of an eventfd armed on its own ring; the ringer
// writes the eventfd, the read completes and the reactor wakes. A "parked" flag makes ringing
// free (no syscall) while the sleeper is awake, so a burst of messages costs at most one
// write per time the consumer parks. It carries no data: pair it with an io::SpscQueue.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include <absl/status/statusor.h>

#include "io/reactor.h"
#include "io/task.h"

namespace ringlog::io {

// Contract (one consumer, which owns the reactor it waits on; any number of ringers):
// The consumer parks with the check-then-wait protocol that cannot lose a wake-up:
//     bell.prepare_wait();                       // announce: I may sleep
//     if (work_visible()) { bell.cancel_wait(); } // look again after announcing
//     else { co_await bell.wait(reactor); }      // sleep until rung
// and a ringer publishes its work (a push with release) before calling ring(). Both sides
// order "write mine, read theirs" with a seq_cst fence (Dekker), so either the consumer sees
// the work or the ringer sees the flag. A ring may be spurious (a wait returns with nothing
// new): the consumer always re-checks.
//
// While wait() is pending its read is in flight on the consumer's ring, which is what keeps
// Reactor::block_on from asserting "would wait forever". The Doorbell must outlive that read:
// ring it once more so the waiter returns before destroying either.
class Doorbell {
public:
    [[nodiscard]] static absl::StatusOr<std::unique_ptr<Doorbell>> create();

    ~Doorbell();

    Doorbell(const Doorbell&) = delete;
    Doorbell& operator=(const Doorbell&) = delete;

    // Consumer.
    void prepare_wait() {
        parked_.store(true, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_seq_cst);
    }

    void cancel_wait() { parked_.store(false, std::memory_order_relaxed); }

    // Completes once a ring() that saw the flag has written the eventfd (or at once when an
    // earlier write is still counted there).
    [[nodiscard]] Task<void> wait(Reactor& reactor);

    // Any thread, after publishing the work.
    void ring() {
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if (parked_.load(std::memory_order_relaxed)
            && parked_.exchange(false, std::memory_order_relaxed)) {
            write_eventfd();
        }
    }

    // Whether the consumer has announced it may sleep (tests, metrics).
    bool parked() const { return parked_.load(std::memory_order_relaxed); }

    // eventfd writes so far: how many times a ring() actually cost a syscall.
    uint64_t writes() const { return writes_.load(std::memory_order_relaxed); }

private:
    explicit Doorbell(int fd) : fd_(fd) {}

    void write_eventfd();

    const int fd_;
    std::atomic<bool> parked_{false};
    std::atomic<uint64_t> writes_{0};
    bool waiting_ = false;   // consumer only: a read is armed
    uint64_t read_value_{};  // the armed read's target: the kernel writes it on completion
};

}  // namespace ringlog::io
