// GroupSync: one shard's syncs, grouped across its logs. A sync costs about one device flush
// whatever it covers, so a shard whose partitions each fdatasync their own file pays a flush
// per partition per round: 500 partitions syncing 16 KiB each reach a third of what one
// syncfs(2) for all of them does (bench/README.md, "One sync for many partitions"). Here a log
// asks for its written bytes to be made durable. Up to `rounds_max` rounds run at once; while
// there is room, a request starts a round at once (its file's own fdatasync, as without this),
// so a few busy partitions sync side by side as they always did. Requests that find every
// round taken wait, and the next round to start takes all of them: one syncfs of the file
// system when two or more wait.
//
// Contract: one per shard, used on the shard's thread; every file given to it lives on the
// same file system (the broker's data directory). A round covers only the writes completed
// before it started, so a request made during a round waits for the next one: it never
// completes on a sync that may have missed its bytes. A round is led by a waiting request's
// own coroutine, so nothing runs once no request waits.
#pragma once

#include <cstdint>
#include <vector>

#include <absl/status/status.h>

#include "core/metrics/latency_buckets.h"
#include "io/event.h"
#include "io/file.h"
#include "io/task.h"

namespace ringlog::core {

struct GroupSyncStats {
    uint64_t requests = 0;           // datasync() calls
    uint64_t file_syncs = 0;         // rounds of one request: that file's fdatasync
    uint64_t file_system_syncs = 0;  // rounds of several: one syncfs for all of them
    uint64_t failed_rounds = 0;
    uint64_t solo_writes = 0;  // dsync writes that took a round of their own (try_begin_solo)
    metrics::LatencyBuckets round_latency;
};

class GroupSync {
public:
    // Four: with fewer, a handful of partitions whose syncs used to overlap wait for each
    // other's (10 partitions lost a fifth of their acks=all throughput with one at a time).
    explicit GroupSync(int rounds_max = 4) : rounds_max_(rounds_max) {}

    GroupSync(const GroupSync&) = delete;
    GroupSync& operator=(const GroupSync&) = delete;

    ~GroupSync();

    // Completes once everything written to `file` before the call is on stable storage, or
    // with the error of the sync that was to cover it (a failed round fails every request in
    // it: nobody can tell which file's data a failed syncfs lost).
    [[nodiscard]] io::Task<absl::Status> datasync(io::File& file);

    // A log about to make a flush durable with one RWF_DSYNC write instead of a write and
    // then datasync() asks for a round of its own: true while a round is free and no request
    // waits (the write then counts as a round until end_solo()); false and the log writes,
    // then asks datasync() to join the next round.
    [[nodiscard]] bool try_begin_solo();
    void end_solo();

    const GroupSyncStats& stats() const { return stats_; }

private:
    struct Request {
        io::File* file;
        absl::Status status;
        bool taken = false;  // in a round (in flight)
        bool done = false;
    };

    io::Task<void> run_round();

    int rounds_max_;
    std::vector<Request*> waiting_;  // the next round, in arrival order
    int rounds_ = 0;                 // in flight
    std::vector<std::vector<Request*>> spare_lists_;
    io::Notify round_done_;
    GroupSyncStats stats_;
};

}  // namespace ringlog::core
