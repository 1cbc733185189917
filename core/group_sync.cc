#include "core/group_sync.h"

#include <chrono>
#include <utility>

#include "io/base/assert.h"

namespace ringlog::core {

GroupSync::~GroupSync() {
    RL_ASSERT(rounds_ == 0 && waiting_.empty(), "GroupSync destroyed with syncs waiting");
}

io::Task<absl::Status> GroupSync::datasync(io::File& file) {
    ++stats_.requests;
    Request request{.file = &file, .status = absl::OkStatus()};
    waiting_.push_back(&request);
    while (!request.done) {
        if (!request.taken && rounds_ < rounds_max_) {
            co_await run_round();  // leads the round that takes every request waiting now
        } else {
            co_await round_done_.wait();
        }
    }
    co_return std::move(request.status);
}

bool GroupSync::try_begin_solo() {
    if (rounds_ >= rounds_max_ || !waiting_.empty()) {
        return false;
    }
    ++rounds_;
    ++stats_.solo_writes;
    return true;
}

void GroupSync::end_solo() {
    RL_ASSERT(rounds_ > 0);
    --rounds_;
    round_done_.notify_all();  // a round is free: the first request waiting leads one
}

io::Task<void> GroupSync::run_round() {
    RL_ASSERT(rounds_ < rounds_max_ && !waiting_.empty());
    ++rounds_;
    // Rounds overlap, so each keeps its own list, swapped out of waiting_ for an empty one
    // that was used before (its memory kept): at most rounds_max_ + 1 lists are ever made.
    std::vector<Request*> round;
    if (!spare_lists_.empty()) {
        round = std::move(spare_lists_.back());
        spare_lists_.pop_back();
    }
    std::swap(round, waiting_);
    for (Request* request : round) {
        request->taken = true;  // woken by another round's end, it waits for this one's
    }
    const auto started = std::chrono::steady_clock::now();
    absl::Status status;
    if (round.size() == 1) {
        ++stats_.file_syncs;
        status = co_await round.front()->file->datasync();
    } else {
        // Any file of the round names the file system; each is open (its log's flusher waits
        // here holding it).
        ++stats_.file_system_syncs;
        status = co_await round.front()->file->sync_file_system();
    }
    stats_.round_latency.record(
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                  std::chrono::steady_clock::now() - started)
                                  .count()));
    stats_.failed_rounds += status.ok() ? 0 : 1;
    for (Request* request : round) {
        request->status = status;
        request->done = true;
    }
    round.clear();
    spare_lists_.push_back(std::move(round));
    --rounds_;
    round_done_.notify_all();  // the round's requests return; the first still waiting leads next
}

}  // namespace ringlog::core
