#include "core/group_sync.h"

#include <chrono>
#include <utility>

#include "io/base/assert.h"

namespace ringlog::core {

GroupSync::~GroupSync() {
    RL_ASSERT(!in_round_ && waiting_.empty(), "GroupSync destroyed with syncs waiting");
}

io::Task<absl::Status> GroupSync::datasync(io::File& file) {
    ++stats_.requests;
    Request request{.file = &file, .status = absl::OkStatus()};
    waiting_.push_back(&request);
    while (!request.done) {
        if (!in_round_) {
            co_await run_round();  // leads the round that takes every request waiting now
        } else {
            co_await round_done_.wait();
        }
    }
    co_return std::move(request.status);
}

io::Task<void> GroupSync::run_round() {
    RL_ASSERT(!in_round_ && !waiting_.empty());
    in_round_ = true;
    round_.clear();
    std::swap(round_, waiting_);
    const auto started = std::chrono::steady_clock::now();
    absl::Status status;
    if (round_.size() == 1) {
        ++stats_.file_syncs;
        status = co_await round_.front()->file->datasync();
    } else {
        // Any file of the round names the file system; each is open (its log's flusher waits
        // here holding it).
        ++stats_.file_system_syncs;
        status = co_await round_.front()->file->sync_file_system();
    }
    stats_.round_latency.record(
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                  std::chrono::steady_clock::now() - started)
                                  .count()));
    stats_.failed_rounds += status.ok() ? 0 : 1;
    for (Request* request : round_) {
        request->status = status;
        request->done = true;
    }
    in_round_ = false;
    round_done_.notify_all();  // the round's requests return; the first still waiting leads next
}

}  // namespace ringlog::core
