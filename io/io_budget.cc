#include "io/io_budget.h"

#include <algorithm>

#include "io/reactor.h"

namespace ringlog::io {

Task<void> IoBudget::spend(uint64_t bytes) {
    spent_bytes_ += bytes;
    if (bytes_per_sec_ == 0) {
        co_return;
    }
    // E.g. 1 MiB at 64 MiB/s costs 15.6 ms: the budget is free again 15.6 ms after it was
    // last free (or after now minus the burst allowance, if it has been idle longer).
    Reactor& reactor = Reactor::current();
    const auto now = reactor.now();
    const auto cost = std::chrono::nanoseconds(static_cast<int64_t>(
        static_cast<double>(bytes) * 1e9 / static_cast<double>(bytes_per_sec_)));
    free_at_ = std::max(free_at_, now - burst_) + cost;
    if (free_at_ > now) {
        co_await reactor.sleep_for(free_at_ - now);
    }
}

}  // namespace ringlog::io
