#include "io/blocking_call_thread.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "io/base/assert.h"

namespace ringlog::io {

struct BlockingCallThread::Call {
    std::function<int()> call;
    int eventfd;
    int result = 0;
};

BlockingCallThread::~BlockingCallThread() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) {
        thread_.join();
    }
}

Task<int> BlockingCallThread::run(Reactor& reactor, std::function<int()> call) {
    const int event = ::eventfd(0, EFD_CLOEXEC);
    if (event < 0) {
        co_return -errno;
    }
    Call queued{.call = std::move(call), .eventfd = event};
    {
        std::lock_guard lock(mutex_);
        RL_ASSERT(!stopping_);
        if (!thread_.joinable()) {
            thread_ = std::thread([this] { loop(); });
        }
        queue_.push_back(&queued);
    }
    wake_.notify_one();
    uint64_t count = 0;
    const int read = co_await reactor.op(
        [&](io_uring_sqe* sqe) { io_uring_prep_read(sqe, event, &count, sizeof(count), 0); });
    if (read != static_cast<int>(sizeof(count))) {
        // The ring gave up on the read (it is being torn down): wait for the thread here, so
        // the eventfd is not closed (and its number reused) before the thread writes it.
        while (::read(event, &count, sizeof(count)) < 0 && errno == EINTR) {
        }
    }
    ::close(event);
    co_return queued.result;
}

void BlockingCallThread::loop() {
    while (true) {
        Call* next = nullptr;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) {
                return;  // stopping, and everything queued has run
            }
            next = queue_.front();
            queue_.pop_front();
        }
        const int event = next->eventfd;
        next->result = next->call();
        // The caller reads the result after this write wakes it (the eventfd's write and read
        // order the store before its load), and may free the call at once: not touched again.
        const uint64_t one = 1;
        while (::write(event, &one, sizeof(one)) < 0 && errno == EINTR) {
        }
    }
}

}  // namespace ringlog::io
