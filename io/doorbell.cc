// The eventfd behind Doorbell. The eventfd is blocking on purpose: io_uring answers a read of
// an O_NONBLOCK file with -EAGAIN instead of arming a poll, and a write blocks only when the
// counter would pass 2^64 - 2, which a few writes per park never reach.
#include "io/doorbell.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

#include "io/base/errno_status.h"

namespace ringlog::io {

absl::StatusOr<std::unique_ptr<Doorbell>> Doorbell::create() {
    const int fd = eventfd(0, EFD_CLOEXEC);
    if (fd < 0) {
        return errno_to_status(errno, "create a doorbell eventfd");
    }
    return std::unique_ptr<Doorbell>(new Doorbell(fd));
}

Doorbell::~Doorbell() {
    RL_ASSERT(!waiting_, "Doorbell destroyed with its read in flight");
    (void)close(fd_);
}

Task<void> Doorbell::wait(Reactor& reactor) {
    RL_ASSERT(!waiting_, "two waiters on one doorbell");
    waiting_ = true;
    const int result = co_await reactor.op([this](io_uring_sqe* sqe) {
        io_uring_prep_read(sqe, fd_, &read_value_, sizeof(read_value_), 0);
    });
    waiting_ = false;
    RL_ASSERT(result == static_cast<int>(sizeof(read_value_)), "doorbell read: %d", result);
    // A ring that arrived after an earlier wake-up already cleared the flag.
    parked_.store(false, std::memory_order_relaxed);
}

void Doorbell::write_eventfd() {
    writes_.fetch_add(1, std::memory_order_relaxed);
    const uint64_t one = 1;
    ssize_t written;
    do {
        written = write(fd_, &one, sizeof(one));
    } while (written < 0 && errno == EINTR);
    RL_ASSERT(written == static_cast<ssize_t>(sizeof(one)), "doorbell write: errno %d", errno);
}

}  // namespace ringlog::io
