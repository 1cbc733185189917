// Task<T>: the coroutine type of every asynchronous function in ringlog. Lazy (nothing runs
// until it is awaited or spawned), single-owner, resumed on the thread that owns its reactor.
// It is not a future: it cannot be shared, polled or awaited twice.
//
// Awaiting a task runs it inline; if it completes without suspending, the awaiter simply
// continues (await_suspend returns false), so a loop of a million awaits that complete
// synchronously keeps the stack flat. A task that suspended and finishes later resumes its
// awaiter by symmetric transfer. (Symmetric transfer alone is not enough: g++ 12 only turns it
// into a tail call with -foptimize-sibling-calls, i.e. at -O2, and Debug builds overflowed.)
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <utility>

#include "io/base/assert.h"

namespace ringlog::io {

template <typename T = void>
class Task;

namespace detail {

struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }

    template <typename Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> handle) noexcept {
        auto& promise = handle.promise();
        if (promise.running_inline_) {
            // Still inside the awaiter's await_suspend: it continues once we return there.
            promise.completed_inline_ = true;
            return std::noop_coroutine();
        }
        std::coroutine_handle<> continuation = promise.continuation_;
        return continuation ? continuation : std::noop_coroutine();
    }

    void await_resume() const noexcept {}
};

struct PromiseBase {
    std::coroutine_handle<> continuation_;
    // Set while the awaiter's await_suspend runs this task inline (see the file comment).
    bool running_inline_ = false;
    bool completed_inline_ = false;

    std::suspend_always initial_suspend() const noexcept { return {}; }

    FinalAwaiter final_suspend() const noexcept { return {}; }

    // Anything thrown inside a shard is a bug: stop the process rather than limp on.
    [[noreturn]] void unhandled_exception() const noexcept { std::terminate(); }
};

template <typename T>
struct Promise : PromiseBase {
    std::optional<T> value_;

    Task<T> get_return_object() noexcept;

    template <typename U>
    void return_value(U&& value) {
        value_.emplace(std::forward<U>(value));
    }
};

template <>
struct Promise<void> : PromiseBase {
    Task<void> get_return_object() noexcept;

    void return_void() const noexcept {}
};

}  // namespace detail

template <typename T>
class [[nodiscard]] Task {
public:
    using promise_type = detail::Promise<T>;
    using Handle = std::coroutine_handle<promise_type>;

    Task() = default;

    explicit Task(Handle handle) : handle_(handle) {}

    Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}

    Task& operator=(Task&& other) noexcept {
        if (this != &other) {
            destroy();
            handle_ = std::exchange(other.handle_, {});
        }
        return *this;
    }

    Task(const Task&) = delete;
    Task& operator=(const Task&) = delete;

    ~Task() { destroy(); }

    bool valid() const { return static_cast<bool>(handle_); }

    bool done() const { return handle_ && handle_.done(); }

    // Awaiting a task starts it; the awaiter resumes when it finishes.
    auto operator co_await() && noexcept {
        struct Awaiter {
            Handle handle;

            bool await_ready() const noexcept { return false; }

            // Runs the task until it suspends or finishes; false (finished) resumes the awaiter
            // at once without growing the stack.
            bool await_suspend(std::coroutine_handle<> awaiter) noexcept {
                auto& promise = handle.promise();
                promise.continuation_ = awaiter;
                promise.running_inline_ = true;
                handle.resume();
                promise.running_inline_ = false;
                return !promise.completed_inline_;
            }

            T await_resume() {
                if constexpr (!std::is_void_v<T>) {
                    RL_ASSERT(handle.promise().value_.has_value());
                    return std::move(*handle.promise().value_);
                }
            }
        };

        RL_ASSERT(handle_ && !handle_.done());
        return Awaiter{handle_};
    }

    // For drivers (Reactor::block_on, spawn): start without a continuation.
    Handle handle() const { return handle_; }

    Handle release() { return std::exchange(handle_, {}); }

    // The result of a finished task, for drivers that ran it to completion.
    T take_result() {
        RL_ASSERT(done());
        if constexpr (!std::is_void_v<T>) {
            return std::move(*handle_.promise().value_);
        }
    }

private:
    void destroy() {
        if (handle_) {
            handle_.destroy();
            handle_ = {};
        }
    }

    Handle handle_;
};

namespace detail {

template <typename T>
Task<T> Promise<T>::get_return_object() noexcept {
    return Task<T>(std::coroutine_handle<Promise<T>>::from_promise(*this));
}

inline Task<void> Promise<void>::get_return_object() noexcept {
    return Task<void>(std::coroutine_handle<Promise<void>>::from_promise(*this));
}

// A fire-and-forget coroutine that owns the task it runs and frees itself at the end.
struct Detached {
    struct promise_type {
        Detached get_return_object() noexcept { return {}; }

        std::suspend_never initial_suspend() const noexcept { return {}; }

        std::suspend_never final_suspend() const noexcept { return {}; }

        void return_void() const noexcept {}

        [[noreturn]] void unhandled_exception() const noexcept { std::terminate(); }
    };
};

inline Detached run_detached(Task<void> task) {
    co_await std::move(task);
}

}  // namespace detail

// Starts a task that nobody awaits. It runs until its first suspension right away. Whoever
// spawns must make sure everything the task references outlives it (see TaskGroup).
inline void spawn(Task<void> task) {
    detail::run_detached(std::move(task));
}

}  // namespace ringlog::io
