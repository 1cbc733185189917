// BlockingCallThread: a thread for the few blocking syscalls io_uring has no operation for
// (syncfs(2)), so the shard that needs one keeps serving while the kernel works. A call's
// completion comes back through the caller's own ring: the caller reads an eventfd there, and
// the thread writes it once the syscall has returned. Not a hot path: a shard calls it at most
// once per round of grouped syncs, so one eventfd per call and a mutex on the queue cost
// nothing that matters beside the syscall itself.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "io/reactor.h"
#include "io/task.h"

namespace ringlog::io {

// Contract: run() may be called from any reactor's thread; calls run one at a time, in the
// order they were queued. The thread starts at the first call. The destructor waits for the
// calls queued so far and joins the thread; callers must not destroy it with a run() still
// being awaited (its eventfd read would outlive the object it waits for).
class BlockingCallThread {
public:
    BlockingCallThread() = default;
    ~BlockingCallThread();

    BlockingCallThread(const BlockingCallThread&) = delete;
    BlockingCallThread& operator=(const BlockingCallThread&) = delete;

    // Runs `call` on the thread and yields what it returned: by convention a syscall's result,
    // a value >= 0 or -errno (as a CQE's res is).
    [[nodiscard]] Task<int> run(Reactor& reactor, std::function<int()> call);

private:
    struct Call;

    void loop();

    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Call*> queue_;  // each lives in its run() frame until the thread is done with it
    bool stopping_ = false;
    std::thread thread_;  // started by the first run()
};

}  // namespace ringlog::io
