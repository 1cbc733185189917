// Interval and Progress: see recorder.h.
#include "tools/ringlog/bench/recorder.h"

namespace ringlog::tools::bench {

void Interval::merge(const Interval& other) {
    produced += other.produced;
    produced_bytes += other.produced_bytes;
    produced_wire_bytes += other.produced_wire_bytes;
    consumed += other.consumed;
    consumed_bytes += other.consumed_bytes;
    consumed_wire_bytes += other.consumed_wire_bytes;
    failed += other.failed;
    produce_latency.merge(other.produce_latency);
    send_latency.merge(other.send_latency);
    e2e_latency.merge(other.e2e_latency);
    fetch_latency.merge(other.fetch_latency);
}

void Interval::reset() {
    produced = 0;
    produced_bytes = 0;
    produced_wire_bytes = 0;
    consumed = 0;
    consumed_bytes = 0;
    consumed_wire_bytes = 0;
    failed = 0;
    produce_latency.reset();
    send_latency.reset();
    e2e_latency.reset();
    fetch_latency.reset();
}

void Progress::publish(int worker, size_t index, const Interval& interval) {
    std::lock_guard lock(mutex_);
    while (seconds_.size() <= index) {
        seconds_.emplace_back();
    }
    seconds_[index].merged.merge(interval);
    ++seconds_[index].reported;
    next_index_[static_cast<size_t>(worker)] = index + 1;
    changed_.notify_all();
}

void Progress::worker_done(int worker) {
    std::lock_guard lock(mutex_);
    done_[static_cast<size_t>(worker)] = true;
    changed_.notify_all();
}

bool Progress::settled(size_t index) const {
    for (size_t w = 0; w < done_.size(); ++w) {
        if (!done_[w] && next_index_[w] <= index) {
            return false;
        }
    }
    return true;
}

std::optional<Interval> Progress::wait_for_second(size_t index) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return settled(index); });
    if (index >= seconds_.size() || seconds_[index].reported == 0) {
        return std::nullopt;
    }
    return seconds_[index].merged;
}

std::deque<Interval> Progress::seconds() const {
    std::lock_guard lock(mutex_);
    std::deque<Interval> out;
    for (const Entry& entry : seconds_) {
        out.push_back(entry.merged);
    }
    return out;
}

}  // namespace ringlog::tools::bench
