// Notify: a condition for coroutines of one shard. A coroutine waits until another one calls
// notify_all(), optionally with a timeout. It carries no state of its own: like a condition
// variable, a waiter re-checks what it waits for after waking. Not thread-safe, by design.
#pragma once

#include <chrono>
#include <coroutine>
#include <cstddef>

#include "io/base/assert.h"
#include "io/task.h"

namespace ringlog::io {

// Contract:
// - wait() suspends until the next notify_all(); a notify_all() with nobody waiting is lost.
// - notify_all() schedules every current waiter on Reactor::current() (they run on the next
//   loop turn, not inside the call), so it is safe to call from anywhere on the shard.
// - wait_for() is wait() with a deadline. When it returns, its timer is gone from the ring and
//   its waiter from the list: nothing refers to its frame any more.
// - A Notify must not be destroyed while coroutines wait on it (asserted).
class Notify {
public:
    Notify() = default;

    ~Notify() { RL_ASSERT(head_ == nullptr, "Notify destroyed with %d waiters", int(count_)); }

    Notify(const Notify&) = delete;
    Notify& operator=(const Notify&) = delete;

    class WaitAwaiter;

    // co_await notify.wait();
    [[nodiscard]] WaitAwaiter wait();

    // True if notified, false if `timeout` passed first.
    [[nodiscard]] Task<bool> wait_for(std::chrono::nanoseconds timeout);

    void notify_all();

    size_t waiter_count() const { return count_; }

    // A node of the intrusive waiter list, inside the waiting coroutine's frame, so waiting
    // allocates nothing. If the frame is destroyed while waiting, the node unlinks itself.
    class Waiter {
    public:
        Waiter() = default;

        ~Waiter() {
            if (owner_ != nullptr) {
                owner_->unlink(*this);
            }
        }

        Waiter(const Waiter&) = delete;
        Waiter& operator=(const Waiter&) = delete;

        bool linked() const { return owner_ != nullptr; }

        bool notified() const { return notified_; }

    private:
        friend class Notify;

        Notify* owner_ = nullptr;
        Waiter* prev_ = nullptr;
        Waiter* next_ = nullptr;
        std::coroutine_handle<> handle_;
        bool notified_ = false;
    };

    class WaitAwaiter {
    public:
        explicit WaitAwaiter(Notify& notify) : notify_(notify) {}

        bool await_ready() const noexcept { return false; }

        void await_suspend(std::coroutine_handle<> handle) { notify_.link(waiter_, handle); }

        void await_resume() const noexcept {}

    private:
        Notify& notify_;
        Waiter waiter_;
    };

private:
    class TimedWait;

    void link(Waiter& waiter, std::coroutine_handle<> handle);
    void unlink(Waiter& waiter);

    Waiter* head_ = nullptr;
    Waiter* tail_ = nullptr;
    size_t count_ = 0;
};

inline Notify::WaitAwaiter Notify::wait() {
    return WaitAwaiter(*this);
}

}  // namespace ringlog::io
