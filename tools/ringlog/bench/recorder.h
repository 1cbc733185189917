// What the load generator's threads count, and how the counts reach the main thread.
// Recorder: one per worker thread, written only by that thread's coroutines: running totals,
// the measured latency histograms, and the numbers of the current second. Progress: the one
// object the threads share (behind a mutex, touched once per second per thread, never per
// message): each second's numbers from every thread, merged, for the progress line and the
// throughput-over-time plot.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

#include "tools/ringlog/bench/histogram.h"

namespace ringlog::tools::bench {

// One second (or the whole run) of one thread, or of all of them merged.
struct Interval {
    uint64_t produced = 0;             // messages acknowledged (sent, for acks=0)
    uint64_t produced_bytes = 0;       // their value bytes
    uint64_t produced_wire_bytes = 0;  // their batches as sent (compressed, with headers)
    uint64_t consumed = 0;             // messages fetched
    uint64_t consumed_bytes = 0;
    uint64_t consumed_wire_bytes = 0;  // their batches as fetched
    uint64_t failed = 0;               // messages whose request failed or was refused
    Histogram produce_latency;         // intended send time -> acknowledgement, ns
    // Intended send time -> the request holding the message handed to the socket, ns: the
    // load generator's own share of produce_latency (linger, a late thread, a full window).
    Histogram send_latency;
    Histogram e2e_latency;    // intended send time -> fetched by a consumer, ns
    Histogram fetch_latency;  // Fetch request -> response, ns

    void merge(const Interval& other);
    void reset();
};

struct Recorder {
    Interval second;    // since the last tick, warm-up included
    Interval measured;  // messages meant to be sent in the measured window only
    uint64_t sent = 0;  // messages handed to the socket, all of them
    uint64_t acked = 0;
    uint64_t failed = 0;
    uint64_t consumed = 0;
    int64_t last_event_ns = 0;  // the last acknowledgement or fetched batch
};

class Progress {
public:
    explicit Progress(int workers)
        : next_index_(static_cast<size_t>(workers), 0), done_(static_cast<size_t>(workers)) {}

    // Worker `worker`'s numbers for second `index` (0-based from the start; each worker
    // publishes its seconds in order).
    void publish(int worker, size_t index, const Interval& interval);

    // Worker `worker` will publish nothing more.
    void worker_done(int worker);

    // Waits until every running worker published second `index`, or all workers are done.
    // nullopt once all are done and `index` has nothing from anyone.
    std::optional<Interval> wait_for_second(size_t index);

    // Every second published so far, merged across workers.
    std::deque<Interval> seconds() const;

private:
    struct Entry {
        Interval merged;
        int reported = 0;
    };

    bool settled(size_t index) const;

    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<Entry> seconds_;
    std::vector<size_t> next_index_;  // per worker: the next second it will publish
    std::vector<bool> done_;
};

}  // namespace ringlog::tools::bench
