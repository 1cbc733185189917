// A FIFO mutex for coroutines of one shard: lock() suspends while another coroutine holds it.
// It orders asynchronous critical sections (a segment roll against a flush), not threads: every
// user runs on the same reactor, so there is no atomic anywhere.
#pragma once

#include <coroutine>
#include <deque>

#include "io/base/assert.h"
#include "io/reactor.h"

namespace ringlog::io {

class AsyncMutex {
public:
    AsyncMutex() = default;
    AsyncMutex(const AsyncMutex&) = delete;
    AsyncMutex& operator=(const AsyncMutex&) = delete;

    ~AsyncMutex() { RL_ASSERT(waiters_.empty()); }

    // co_await mutex.lock(); ... mutex.unlock();  Ownership passes to the next waiter in
    // arrival order, which is resumed on the next loop turn.
    auto lock() {
        struct Awaiter {
            AsyncMutex& mutex;

            bool await_ready() {
                if (!mutex.locked_) {
                    mutex.locked_ = true;
                    return true;
                }
                return false;
            }

            void await_suspend(std::coroutine_handle<> handle) { mutex.waiters_.push_back(handle); }

            void await_resume() const noexcept {}
        };

        return Awaiter{*this};
    }

    void unlock() {
        RL_ASSERT(locked_);
        if (waiters_.empty()) {
            locked_ = false;
            return;
        }
        std::coroutine_handle<> next = waiters_.front();
        waiters_.pop_front();
        Reactor::current().schedule(next);  // stays locked: ownership moves to `next`
    }

    bool locked() const { return locked_; }

private:
    bool locked_ = false;
    std::deque<std::coroutine_handle<>> waiters_;
};

// Unlocks on scope exit: `co_await mutex.lock(); AsyncMutexUnlock unlock(mutex);`
class AsyncMutexUnlock {
public:
    explicit AsyncMutexUnlock(AsyncMutex& mutex) : mutex_(mutex) {}

    ~AsyncMutexUnlock() { mutex_.unlock(); }

    AsyncMutexUnlock(const AsyncMutexUnlock&) = delete;
    AsyncMutexUnlock& operator=(const AsyncMutexUnlock&) = delete;

private:
    AsyncMutex& mutex_;
};

}  // namespace ringlog::io
